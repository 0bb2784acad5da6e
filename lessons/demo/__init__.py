"""The live streaming demo: a uvicorn-served app and a page that watches a job stream."""
