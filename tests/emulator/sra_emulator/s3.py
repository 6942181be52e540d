"""S3: what stock moto 5.2.5 gets wrong.

- PutBucketLogging checks that the target bucket's policy lets
  logging.s3.amazonaws.com write, but crashed (HTTP 500) on any statement whose
  Principal is the string "*" (valid IAM, e.g. a TLS-only Deny), and compared Action
  and Resource only as single strings. Here statements are read as IAM does: a
  Principal may be "*" or a map, Action and Resource a string or a list.
- GetBucketVersioning, GetBucketLifecycleConfiguration and GetBucketLogging
  answered with a root element `<OperationResponse>`; S3 answers
  `<VersioningConfiguration>`, `<LifecycleConfiguration>` and
  `<BucketLoggingStatus>`, and SDKs that check the root (the Rust SDK) reject
  moto's. Here those operations get S3's root element.
"""
import json

from moto.core import serialize
from moto.s3 import models

LOGGING_SERVICE_PRINCIPAL = "logging.s3.amazonaws.com"


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _log_permissions_enabled_policy(target_bucket, target_prefix):
    if not target_bucket.policy:
        return False
    document = json.loads(target_bucket.policy.decode())
    arn = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}"
    accepted = {f"{arn}/{target_prefix or ''}*", f"{arn}/*", arn}
    for stmt in _as_list(document.get("Statement")):
        principal = stmt.get("Principal", {})
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if LOGGING_SERVICE_PRINCIPAL not in services:
            continue
        if stmt.get("Effect") != "Allow":
            continue
        if not {"s3:PutObject", "s3:*", "*"} & set(_as_list(stmt.get("Action"))):
            continue
        if not accepted & set(_as_list(stmt.get("Resource"))):
            continue
        return True
    return False


# Operations whose output has no payload member: S3's root element for each.
ROOT_ELEMENTS = {
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
}
_original_result_to_response = serialize.S3Serializer._serialized_result_to_response


def _serialized_result_to_response(self, resp, result, shape, serialized_result):
    root = ROOT_ELEMENTS.get(self.operation_model.name)
    if root is None:
        return _original_result_to_response(self, resp, result, shape, serialized_result)
    body = dict(serialized_result.get("body") or {})
    resp["headers"].update(serialized_result.get("headers") or {})
    wrapper = {root: body}
    self._serialize_namespace_attribute(wrapper[root])
    resp["body"] = self._serialize_body(wrapper)
    resp["headers"]["Content-Type"] = self.CONTENT_TYPE
    return resp


def apply():
    serialize.S3Serializer._serialized_result_to_response = _serialized_result_to_response
    models.FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions_enabled_policy)
