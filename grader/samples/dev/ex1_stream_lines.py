from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()

lines = ["alpha", "beta", "gamma"]


@app.get("/lines")
def stream_lines():
    return StreamingResponse((f"{line}\n" for line in lines), media_type="text/plain")
