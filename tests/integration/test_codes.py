"""Sign-in codes kept in Redis: used once, five tries, replaced by a new one,
each belonging to one sign-in attempt."""

from app.auth import codes

A = "attempt-a"


def test_a_code_works_once_then_reads_as_used(app):
    with app.app_context():
        codes.store("once@example.com", A, "111111")
        assert codes.check("once@example.com", A, "111111") == (codes.Outcome.OK, 0)
        assert codes.check("once@example.com", A, "111111")[0] is codes.Outcome.USED


def test_five_wrong_tries_lock_the_code(app):
    with app.app_context():
        codes.store("tries@example.com", A, "222222")
        assert [codes.check("tries@example.com", A, "000000") for _ in range(4)] == [
            (codes.Outcome.WRONG, 4),
            (codes.Outcome.WRONG, 3),
            (codes.Outcome.WRONG, 2),
            (codes.Outcome.WRONG, 1),
        ]
        assert codes.check("tries@example.com", A, "000000")[0] is codes.Outcome.LOCKED
        assert codes.check("tries@example.com", A, "222222")[0] is codes.Outcome.LOCKED  # even the right one


def test_wrong_tries_lock_only_the_attempt_they_were_made_against(app):
    with app.app_context():
        codes.store("two@example.com", "owner", "123123")
        codes.store("two@example.com", "stranger", "999999")
        for _ in range(5):
            codes.check("two@example.com", "stranger", "123123")
        assert codes.check("two@example.com", "stranger", "999999")[0] is codes.Outcome.LOCKED
        assert codes.check("two@example.com", "owner", "123123")[0] is codes.Outcome.OK


def test_a_code_expires_with_its_key(app):
    from app.connections import redis_client

    with app.app_context():
        codes.store("late@example.com", A, "333333")
        assert 0 < redis_client().ttl(codes.code_key("late@example.com", A)) <= codes.CODE_TTL
        redis_client().delete(codes.code_key("late@example.com", A))  # what the TTL does after 5 minutes
        assert codes.check("late@example.com", A, "333333")[0] is codes.Outcome.EXPIRED


def test_a_new_code_replaces_the_old_one(app):
    with app.app_context():
        codes.store("again@example.com", A, "444444")
        codes.check("again@example.com", A, "000000")
        codes.store("again@example.com", A, "555555")
        assert codes.check("again@example.com", A, "444444") == (codes.Outcome.WRONG, 4)  # tries reset too
        assert codes.check("again@example.com", A, "555555")[0] is codes.Outcome.OK
