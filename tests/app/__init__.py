"""An app on disk, through Flask's test client: uploads, chunks, forms, deletes, serving, CSRF."""
