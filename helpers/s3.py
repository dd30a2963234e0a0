"""S3: the bucket that holds model artifacts."""

from __future__ import annotations

import hashlib
import urllib.parse

from botocore.exceptions import ClientError

from helpers.errors import is_not_found
from helpers.session import client, settings


def ensure_bucket(name: str, tags: dict[str, str]) -> str:
    """Create the bucket (tagged, public access blocked) unless this account already owns it."""
    s3 = client("s3")
    try:
        s3.head_bucket(Bucket=name)
        return name
    except ClientError as exc:
        if not is_not_found(exc):
            raise
    region = settings().region
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            k: True
            for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        },
    )
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    print(f"created bucket s3://{name}")
    return name


def put_if_changed(bucket: str, key: str, body: bytes, tags: dict[str, str]) -> str:
    """Upload body unless the same bytes are there already; return the s3:// URL."""
    s3 = client("s3")
    digest = hashlib.sha256(body).hexdigest()
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head.get("Metadata", {}).get("sha256") == digest:
            return f"s3://{bucket}/{key}"
    except ClientError as exc:
        if not is_not_found(exc):
            raise
    tagging = urllib.parse.urlencode(
        tags
    )  # S3 reads the tag set as a URL query: '+' or '&' in a value must be encoded
    s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"sha256": digest}, Tagging=tagging)
    print(f"uploaded s3://{bucket}/{key} ({len(body):,} bytes, sha256 {digest[:12]}…)")
    return f"s3://{bucket}/{key}"
