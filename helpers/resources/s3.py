"""S3: the kit's buckets (tagged; only names the kit could have made) and every object version and
delete marker in them (untaggable: the kit's by their bucket), priced by their bytes
(https://aws.amazon.com/s3/pricing/, S3 Standard storage per GB-month).
"""

from __future__ import annotations

from typing import ClassVar

from botocore.exceptions import ClientError

from helpers import errors, session
from helpers.resources._kind import HOURS_PER_MONTH, Kind, Resource, Search, pages, tag_dict


class ObjectVersion(Kind):
    """One version (or delete marker) of an object in the kit's bucket."""

    service, kind = "s3", "object"
    STORAGE_USD_GB_MONTH: ClassVar[float] = 0.023

    def find_in(self, search: Search, bucket: Resource) -> None:
        """Every version and delete marker in a bucket."""
        s3 = session.client("s3")
        for key in ("Versions", "DeleteMarkers"):
            for v in pages(s3, "list_object_versions", key, Bucket=bucket.name):
                size = v.get("Size", 0)
                what = "delete marker" if key == "DeleteMarkers" else f"{size:,} bytes"
                search.child(
                    bucket,
                    self,
                    v["Key"],
                    est_hourly_usd=size / 1e9 * self.STORAGE_USD_GB_MONTH / HOURS_PER_MONTH,
                    note=f"{what}, version {v['VersionId']}",
                    ref={"Key": v["Key"], "VersionId": v["VersionId"]},
                )

    @staticmethod
    def object_id(r: Resource) -> dict[str, str]:
        """Key and VersionId of an object version; an unversioned bucket's 'null' version is addressed by key alone."""
        version = r.ref["VersionId"]
        return {"Key": r.ref["Key"], **({"VersionId": version} if version != "null" else {})}

    def exists(self, r: Resource) -> bool:
        return bool(session.client("s3").head_object(Bucket=r.parent, **self.object_id(r)))

    def delete(self, r: Resource) -> None:
        session.client("s3").delete_object(Bucket=r.parent, **self.object_id(r))


class Bucket(Kind):
    service, kind = "s3", "bucket"
    children = (ObjectVersion(),)

    def find(self, search: Search) -> None:
        """The kit's buckets and lookalikes (only names the kit could have made: other buckets may live in
        other regions)."""
        buckets = session.client("s3").list_buckets().get("Buckets", [])
        for _, name in search.candidates(buckets, lambda b: b["Name"]):
            if "-ml-workshop" in name:
                search.tagged(self, name, self.tags(name), arn=session.arn("s3", name, region="", account=""))

    @staticmethod
    def tags(name: str) -> dict[str, str]:
        """A bucket's tags (none when it has no tag set)."""
        try:
            return tag_dict(session.client("s3").get_bucket_tagging(Bucket=name).get("TagSet", []))
        except ClientError as exc:
            if errors.code(exc) not in ("NoSuchTagSet", "NoSuchBucket"):
                raise
            return {}

    def exists(self, r: Resource) -> bool:
        return bool(session.client("s3").head_bucket(Bucket=r.name))

    def delete(self, r: Resource) -> None:
        """Delete every object version left (written since the inventory), then the bucket."""
        s3 = session.client("s3")
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=r.name):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=r.name, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=r.name)
