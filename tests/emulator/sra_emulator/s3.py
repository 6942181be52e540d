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
- PutObjectLockConfiguration refused a bucket that already held objects
  (BucketNeedsToBeNew). S3 enables Object Lock on an existing bucket with
  versioning on, objects already there left unlocked (S3 User Guide,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html,
  "Enable Object Lock on an existing S3 bucket"); versioning off is still
  InvalidBucketState, and once enabled it cannot be turned off.
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


def put_object_lock_configuration(self, bucket_name, lock_enabled, mode=None, days=None, years=None):
    bucket = self.get_bucket(bucket_name)
    if not bucket.is_versioned:
        raise models.InvalidBucketState(
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
        )
    if lock_enabled:
        bucket.object_lock_enabled = True
        bucket.versioning_status = "Enabled"
    bucket.default_lock_mode = mode
    bucket.default_lock_days = days
    bucket.default_lock_years = years


# With IAM enforcement on, moto checks each bucket call under the action its
# ACTION_MAP names. IAM's names differ (Service Authorization Reference, Amazon S3:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html;
# HeadBucket needs s3:ListBucket: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html),
# and moto's "public_access_block" key never matches the request's
# "publicAccessBlock", so those calls fell to ListBucket. The IAM names, so that a
# policy that works in AWS works here and one that would fail in AWS fails here.
_IAM_BUCKET_ACTIONS = {
    "HEAD": {"DEFAULT": "ListBucket"},
    "GET": {
        "publicAccessBlock": "GetBucketPublicAccessBlock",
        "encryption": "GetEncryptionConfiguration",
        "ownershipControls": "GetBucketOwnershipControls",
        "object-lock": "GetBucketObjectLockConfiguration",
    },
    "PUT": {
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "encryption": "PutEncryptionConfiguration",
        "ownershipControls": "PutBucketOwnershipControls",
        "object-lock": "PutBucketObjectLockConfiguration",
    },
    "DELETE": {
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "encryption": "PutEncryptionConfiguration",
        "ownershipControls": "PutBucketOwnershipControls",
    },
}


def apply():
    from moto.s3.responses import ACTION_MAP

    for method, actions in _IAM_BUCKET_ACTIONS.items():
        ACTION_MAP["BUCKET"][method].update(actions)
    models.S3Backend.put_object_lock_configuration = put_object_lock_configuration
    serialize.S3Serializer._serialized_result_to_response = _serialized_result_to_response
    models.FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions_enabled_policy)
