#!/usr/bin/env python3
"""The seeds' Python authorizer pattern, as a Lambda function.

boto3 at module load, the secret fetched on every invocation, keys compared
with ==, an Allow on the whole stage or "Unauthorized". The loop at the
bottom is a minimal client of the Lambda Runtime API
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), standing
in for the Python runtime interface client, which is not installed here.
TOLLGATE_SECRET_ID names the secret; boto3 reads the Region, credentials and
AWS_ENDPOINT_URL_SECRETS_MANAGER from the environment.
"""
import json
import os
import urllib.request

import boto3

client = boto3.client("secretsmanager")


def handler(event, context):
    secret = client.get_secret_value(SecretId=os.environ["TOLLGATE_SECRET_ID"])
    keys = json.loads(secret["SecretString"])["keys"]
    token = event.get("authorizationToken", "")
    if token.startswith("Bearer "):
        token = token[len("Bearer "):]
    for k in keys:
        if k["key"] == token:
            arn = event["methodArn"].split("/")
            return {
                "principalId": k["id"],
                "policyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Action": "execute-api:Invoke",
                        "Effect": "Allow",
                        "Resource": arn[0] + "/" + arn[1] + "/*/*",
                    }],
                },
                "context": {"keyId": k["id"]},
            }
    raise Exception("Unauthorized")


def main():
    api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
    while True:
        with urllib.request.urlopen(api + "next") as r:
            request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.load(r)
        try:
            body, path = json.dumps(handler(event, None)), request_id + "/response"
        except Exception as e:
            body = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__})
            path = request_id + "/error"
        post = urllib.request.Request(api + path, data=body.encode(), method="POST")
        urllib.request.urlopen(post).read()


if __name__ == "__main__":
    main()
