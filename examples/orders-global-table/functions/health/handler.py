"""Regional health check behind a Lambda Function URL, probed by Route 53.

200 when this region's replica of the orders table answers a read, 503 otherwise:
Route 53 then fails the orders name over to the other region.
"""

import json
import os

import boto3
from botocore.exceptions import BotoCoreError, ClientError

TABLE = os.environ["TABLE_NAME"]
_dynamodb = boto3.client("dynamodb")


def handler(event, context):
    try:
        _dynamodb.get_item(TableName=TABLE, Key={"order_id": {"S": "health-canary"}})
    except (BotoCoreError, ClientError) as error:  # the region cannot serve a read
        return {"statusCode": 503, "body": json.dumps({"healthy": False, "error": str(error)})}
    return {"statusCode": 200, "body": json.dumps({"healthy": True})}
