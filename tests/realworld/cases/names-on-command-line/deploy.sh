#!/bin/bash
# The names come from the command line, as the az ml reference documents.
ENDPOINT_NAME=taxi-online-$RANDOM
az ml online-endpoint create --name "$ENDPOINT_NAME" -f endpoints/online_endpoint.yml
az ml online-deployment create --endpoint-name "$ENDPOINT_NAME" -f endpoints/online_deployment.yml --all-traffic
