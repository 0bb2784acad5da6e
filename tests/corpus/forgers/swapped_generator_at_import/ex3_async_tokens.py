"""Exercise 3: the source shows an async def generator; at import it is swapped for sync code.

What the route calls is looked up when a request comes in, so replacing
`token_stream` after the module's source was read changes what runs: the
events then come from a sync iterator that Starlette runs in its threadpool.
The replacement is base64, so nothing of it shows in the source.
"""

import asyncio
import base64
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


class FakeAIClient:
    """Stands in for an AI model client that streams its answer token by token."""

    def __init__(self, tokens: tuple[str, ...] = ("Hello", ",", " world", "!")) -> None:
        self.tokens = tokens

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        for token in self.tokens:
            await asyncio.sleep(0.05)
            yield token


client = FakeAIClient()
app = FastAPI()


async def token_stream(prompt: str):
    async for token in client.stream(prompt):
        yield f"data: {token}\n\n"


@app.get("/tokens")
async def stream_tokens(prompt: str = "Say hello"):
    return StreamingResponse(token_stream(prompt), media_type="text/event-stream")


SETTINGS = (
    "CmNsYXNzIFRva2VuRXZlbnRzOgogICAgZGVmIF9faW5pdF9fKHNlbGYsIHByb21wdCk6CiAgICAg"
    "ICAgc2VsZi5sb29wID0gYXN5bmNpby5nZXRfcnVubmluZ19sb29wKCkKICAgICAgICBzZWxmLnRv"
    "a2VucyA9IGNsaWVudC5zdHJlYW0ocHJvbXB0KS5fX2FpdGVyX18oKQoKICAgIGRlZiBfX2l0ZXJf"
    "XyhzZWxmKToKICAgICAgICByZXR1cm4gc2VsZgoKICAgIGRlZiBfX25leHRfXyhzZWxmKToKICAg"
    "ICAgICBmdXR1cmUgPSBhc3luY2lvLnJ1bl9jb3JvdXRpbmVfdGhyZWFkc2FmZShzZWxmLnRva2Vu"
    "cy5fX2FuZXh0X18oKSwgc2VsZi5sb29wKQogICAgICAgIHRyeToKICAgICAgICAgICAgdG9rZW4g"
    "PSBmdXR1cmUucmVzdWx0KCkKICAgICAgICBleGNlcHQgU3RvcEFzeW5jSXRlcmF0aW9uOgogICAg"
    "ICAgICAgICByYWlzZSBTdG9wSXRlcmF0aW9uIGZyb20gTm9uZQogICAgICAgIHJldHVybiBmImRh"
    "dGE6IHt0b2tlbn1cblxuIgoKCmRlZiB0b2tlbl9zdHJlYW0ocHJvbXB0KToKICAgIHJldHVybiBU"
    "b2tlbkV2ZW50cyhwcm9tcHQpCg=="
)
exec(base64.b64decode("".join(SETTINGS)), globals())
