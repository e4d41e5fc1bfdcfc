"""Presence records in Redis: per connection, kept alive by one heartbeat per web process."""

from bson import ObjectId

from app import clock, connections
from app.realtime import presence


def test_a_person_is_online_while_a_connection_of_a_live_process_lasts(ns_app):
    ann, ben = ObjectId(), ObjectId()
    with ns_app.app_context():
        presence.heartbeat("web-a")
        assert presence.connect("web-a", ann, "tab1") == (True, [])
        assert presence.connect("web-a", ann, "tab2") == (False, [])  # already online
        assert presence.online([ann, ben]) == {ann}
        assert presence.disconnect("web-a", ann, "tab1") is False
        assert presence.disconnect("web-a", ann, "tab2") is True
        assert presence.online([ann]) == set()


def test_a_dead_process_is_swept_once_and_only_its_people_go_offline(ns_app):
    ann, ben = ObjectId(), ObjectId()
    with ns_app.app_context():
        presence.heartbeat("web-a")
        presence.heartbeat("web-b")
        presence.connect("web-a", ann, "a1")
        presence.connect("web-a", ben, "a2")
        presence.connect("web-b", ben, "b1")  # Ben has a tab on a process that lives
        from app.connections import redis_client

        redis_client().zadd(presence.processes_key(), {"web-a": clock.time() - 1})  # web-a missed its beats
        assert presence.online([ann, ben]) == {ben}
        assert presence.sweep() == [ann]
        assert presence.sweep() == []  # claimed once
        assert not redis_client().exists(presence.process_key("web-a"))


def test_reconcile_restores_swept_records_and_drops_stale_ones(ns_app):
    ann, ben = ObjectId(), ObjectId()
    with ns_app.app_context():
        from app.connections import redis_client

        presence.heartbeat("web-a")
        presence.connect("web-a", ann, "a1")
        presence.connect("web-a", ben, "a2")  # its disconnect will have failed
        # Redis could not hear web-a for a while; another process swept it.
        redis_client().zadd(presence.processes_key(), {"web-a": clock.time() - 1})
        presence.sweep()
        assert presence.heartbeat("web-a") is True  # counted gone: reconcile
        came, gone = presence.reconcile("web-a", lambda: {"a1": ann})
        assert came == [ann] and gone == []
        assert presence.online([ann, ben]) == {ann}
        presence.connect("web-a", ben, "a2")
        came, gone = presence.reconcile("web-a", lambda: {"a1": ann})
        assert came == [] and gone == [ben]
        assert presence.online([ann, ben]) == {ann}


def test_the_heartbeat_is_one_command_however_many_connections(ns_app, private_redis):
    ns_app.config["REDIS_URL"] = private_redis.url
    connections.init_app(ns_app)
    with ns_app.app_context():
        presence.heartbeat("web-a")
        for n in range(200):
            presence.connect("web-a", ObjectId(), f"c{n}")
        counter = private_redis.client()
        before = counter.info("stats")["total_commands_processed"]
        presence.heartbeat("web-a")
        assert counter.info("stats")["total_commands_processed"] - before == 2  # the heartbeat, and INFO


def test_past_the_cap_the_oldest_pages_are_named_to_close(app):
    ann = ObjectId()
    with app.app_context():
        presence.heartbeat("web-a")
        presence.heartbeat("web-b")
        ids = [presence.connection_id() for _ in range(presence.PAGES_PER_PERSON + 2)]
        for n, connection in enumerate(ids[: presence.PAGES_PER_PERSON]):
            assert presence.connect("web-a" if n % 2 else "web-b", ann, connection)[1] == []
        assert presence.connect("web-a", ann, ids[-2]) == (False, [ids[0]])
        presence.disconnect("web-b", ann, ids[0])  # its hub closed it
        assert presence.connect("web-b", ann, ids[-1]) == (False, [ids[1]])
        assert sorted(ids) == ids  # ids sort by when they were made
