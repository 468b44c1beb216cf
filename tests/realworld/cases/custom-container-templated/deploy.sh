#!/bin/bash
# The repository fills the templates in before az ml reads them.
sed -e "s/{{ENDPOINT_NAME}}/$ENDPOINT_NAME/" -e "s/{{ACR_NAME}}/$ACR_NAME/" -e "s/{{MODEL_VERSION}}/$VERSION/" \
  deployment.yml > /tmp/deployment.yml
az ml online-deployment create -f /tmp/deployment.yml --all-traffic
