"""Telling a service's failure (wait, keep the job) from the work's own."""

import socket

import pika.exceptions
import pymongo.errors
import pytest
import redis.exceptions

from app.broker.consumer import Backoff, Reject
from app.outages import is_outage

OUTAGES = [
    redis.exceptions.ConnectionError("Connection refused"),
    redis.exceptions.TimeoutError("Timeout reading from socket"),
    redis.exceptions.OutOfMemoryError("OOM command not allowed when used memory > 'maxmemory'."),
    redis.exceptions.ReadOnlyError("You can't write against a read only replica."),
    redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
    redis.exceptions.MasterDownError("MASTERDOWN Link with MASTER is down"),
    redis.exceptions.ResponseError("MISCONF Redis is configured to save RDB snapshots"),
    pymongo.errors.AutoReconnect("connection closed"),
    pymongo.errors.NetworkTimeout("timed out"),
    pymongo.errors.ServerSelectionTimeoutError("No servers available"),
    pymongo.errors.NotPrimaryError("not primary", {"code": 10107, "codeName": "NotWritablePrimary"}),
    pymongo.errors.OperationFailure("stepped down", 189),
    pymongo.errors.WriteConcernError("waiting for replication timed out", 64),
    pika.exceptions.AMQPConnectionError("refused"),
    pika.exceptions.StreamLostError("lost"),
    pika.exceptions.ChannelClosedByBroker(406, "PRECONDITION_FAILED"),
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError("timed out"),
    socket.gaierror(-2, "Name or service not known"),
]

THE_WORKS_OWN = [
    Reject("not JSON"),
    ValueError("bad"),
    KeyError("text"),
    redis.exceptions.DataError("Invalid input of type: 'dict'"),
    pymongo.errors.DocumentTooLarge("too large"),
]


@pytest.mark.parametrize("error", OUTAGES, ids=lambda error: type(error).__name__)
def test_a_failing_service_is_an_outage(error):
    assert is_outage(error)


@pytest.mark.parametrize("error", THE_WORKS_OWN, ids=lambda error: type(error).__name__)
def test_the_works_own_failure_is_not(error):
    assert not is_outage(error)


def test_waits_double_then_start_again_after_a_healthy_while():
    now = [0.0]
    backoff = Backoff(least=0.5, most=4, healthy=10, clock=lambda: now[0])
    assert [backoff.failed() for _ in range(5)] == [0.5, 1, 2, 4, 4]
    now[0] += 3
    backoff.going_well()
    assert backoff.failed() == 4  # not yet healthy for long: the outage goes on
    now[0] += 10
    backoff.going_well()
    assert backoff.failed() == 0.5  # a new outage starts short
