"""The stores: the store contract on disk and S3, SeaweedFS, direct uploads, and several app servers
(gunicorn) sharing a folder or a bucket."""
