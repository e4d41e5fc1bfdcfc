"""Throwaway instances of what Parley runs on, for the tests, `make bench`
and `make chaos`: processes with their output in a log file, a SecantusDB,
Redis and RabbitMQ of their own (on free ports, never the shared ones), and
an SMTP server that keeps what it receives."""

from sandbox.processes import BIN, ROOT, Process, free_port, listening, wait_for
from sandbox.services import Certificates, Inbox, PrivateRabbitMQ, PrivateRedis, PrivateRedisCluster, SecantusDB

__all__ = [
    "BIN",
    "ROOT",
    "Certificates",
    "Inbox",
    "PrivateRabbitMQ",
    "PrivateRedis",
    "PrivateRedisCluster",
    "Process",
    "SecantusDB",
    "free_port",
    "listening",
    "wait_for",
]
