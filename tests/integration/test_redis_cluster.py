"""Redis Cluster: the client is chosen by the URL. `make test` runs the
integration suite a second time against a local 3-node cluster
(PARLEY_TEST_REDIS=cluster), where a script or transaction touching keys of
two hash slots fails with CROSSSLOT: that run is the proof that every one
keeps its keys under one hash tag."""

from redis.cluster import RedisCluster

from app.connections import redis_client


def test_the_client_follows_the_url(ns_app):
    with ns_app.app_context():
        client = redis_client()
    assert isinstance(client, RedisCluster) == ("+cluster://" in ns_app.config["REDIS_URL"])
