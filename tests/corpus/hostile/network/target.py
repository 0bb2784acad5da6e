"""Where the submission sends what it steals; the hostile-corpus test rewrites PORT."""

HOST = "127.0.0.1"
PORT = 9
