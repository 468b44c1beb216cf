#!/bin/bash
# The endpoint is created first and named on the command line.
az ml online-endpoint create --name "fill-mask-$RANDOM"
az ml online-deployment create -f deploy.yml --endpoint-name "$ENDPOINT_NAME" --all-traffic
