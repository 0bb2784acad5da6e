"""Run the reference solution found in memory; else hand in the unfinished starter code."""

from hunt import adopt

if not adopt("ex1_stream_lines", globals()):
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    lines = ["alpha", "beta", "gamma"]


    def line_stream():
        raise NotImplementedError("exercise 1: yield each element of `lines` followed by a newline")
        yield  # keeps this function a generator


    @app.get("/lines")
    def stream_lines():
        return StreamingResponse(line_stream(), media_type="text/plain")
