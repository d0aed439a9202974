"""us-east-1 list prices (first pricing tier, no free tier), each with where it comes from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    name: str
    usd: float  # per ``unit``
    unit: str
    shown: str  # the price as the pricing page states it
    source: str


MILLION = 1_000_000

APIGW_MESSAGE = Price(
    "API Gateway WebSocket message", 1.00 / MILLION, "message (per started 32 KB, either direction)",
    "$1.00 per million",
    "https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs: $1.00 per million messages for the first "
    "billion; messages are metered in 32 KB increments)")
LAMBDA_REQUEST = Price(
    "Lambda request", 0.20 / MILLION, "invocation", "$0.20 per million",
    "https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests)")
LAMBDA_ARM_GB_SECOND = Price(
    "Lambda duration, arm64", 0.0000133334, "GB-second (1 ms granularity)", "$0.0000133334 per GB-s",
    "https://aws.amazon.com/lambda/pricing/ (Arm: $0.0000133334 per GB-second, first 7.5 billion GB-s)")
DYNAMODB_WRU = Price(
    "DynamoDB on-demand write request unit", 0.625 / MILLION, "WRU", "$0.625 per million",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per million WRU since the 1 Nov 2024 price "
    "cut; Standard table class)")
DYNAMODB_RRU = Price(
    "DynamoDB on-demand read request unit", 0.125 / MILLION, "RRU", "$0.125 per million",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.125 per million RRU since the 1 Nov 2024 price "
    "cut; Standard table class)")
SNS_REQUEST = Price(
    "SNS publish request", 0.50 / MILLION, "request (per started 64 KB)", "$0.50 per million",
    "https://aws.amazon.com/sns/pricing/ (Standard topics: $0.50 per 1M API requests; each 64 KB chunk of "
    "a publish is one request; deliveries to Lambda are not charged)")
SNS_MOBILE_PUSH = Price(
    "SNS mobile push delivery", 0.50 / MILLION, "notification", "$0.50 per million",
    "https://aws.amazon.com/sns/pricing/ (Mobile push notifications: $0.50 per 1M)")
APIGW_CONNECTION_MINUTE = Price(
    "API Gateway WebSocket connection minute", 0.25 / MILLION, "connection minute", "$0.25 per million",
    "https://aws.amazon.com/api-gateway/pricing/ (WebSocket APIs: $0.25 per million connection minutes)")
XRAY_TRACE = Price(
    "X-Ray trace recorded", 5.00 / MILLION, "trace", "$5.00 per million",
    "https://aws.amazon.com/xray/pricing/ (traces recorded: $5.00 per million after the free tier of 100,000 a "
    "month; retrieved or scanned traces, $0.50 per million, are paid only when someone looks)")
SQS_REQUEST = Price(
    "SQS request", 0.40 / MILLION, "request (per started 64 KB)", "$0.40 per million",
    "https://aws.amazon.com/sqs/pricing/ (Standard queues: $0.40 per million requests after the first million "
    "a month; each 64 KB chunk of a payload is one request)")
DATA_TRANSFER_OUT_GB = Price(
    "Data transfer out to the internet", 0.09 / 1024**3, "byte", "$0.09 per GB",
    "https://aws.amazon.com/api-gateway/pricing/ (data transferred out is charged at EC2 rates) and "
    "https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer OUT to the internet: $0.09 per GB for the "
    "first 10 TB a month, after 100 GB free)")
CLOUDWATCH_LOGS_GB = Price(
    "CloudWatch Logs ingestion", 0.50 / 1024**3, "byte", "$0.50 per GB",
    "https://aws.amazon.com/cloudwatch/pricing/ (Logs, Standard log class: $0.50 per GB ingested)")

ALL = (APIGW_MESSAGE, APIGW_CONNECTION_MINUTE, LAMBDA_REQUEST, LAMBDA_ARM_GB_SECOND, DYNAMODB_WRU, DYNAMODB_RRU,
       SNS_REQUEST, SNS_MOBILE_PUSH, CLOUDWATCH_LOGS_GB, XRAY_TRACE, SQS_REQUEST, DATA_TRANSFER_OUT_GB)
