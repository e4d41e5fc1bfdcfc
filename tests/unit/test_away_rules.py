"""Pure rules of reaching people who are away: the email's subject, what a
mail job may hold, the push services taken, where sign-in may send someone,
and how a delay reads."""

import copy

import pytest

from app import create_app, letters
from app.notifications import browsers, settings
from app.notifications.letters import MISSED_MESSAGES, subject
from app.web import local_path
from tests.support.queues import missed_job


@pytest.fixture(scope="module")
def app():
    """The app with test settings; it connects to nothing until used, and these tests use nothing."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"APP_ENV": "test", "SECRET_KEY": "k" * 32, "JWT_SECRET_KEY": "j" * 32}.items():
            patch.setenv(name, value)
        patch.delenv("MISSED_MESSAGE_DELAY", raising=False)
        return create_app()


def values(*chats, more_chats=0, more_messages=0):
    return {
        "chats": [{"from": name, "count": count} for name, count in chats],
        "more_chats": more_chats,
        "more_messages": more_messages,
    }


@pytest.mark.parametrize(
    "chats, more, expected",
    [
        ([("Ada Lovelace", 1)], (0, 0), "1 new message from Ada Lovelace"),
        ([("Ada Lovelace", 2)], (0, 0), "2 new messages from Ada Lovelace"),
        ([("Ada Lovelace", 3), ("Grace Hopper", 2)], (0, 0), "5 new messages from Ada Lovelace and 1 other"),
        ([("Ada Lovelace", 3), ("Grace Hopper", 1)], (1, 1), "5 new messages from Ada Lovelace and 2 others"),
        ([("Ada", 1200)], (0, 0), "1,200 new messages from Ada"),
    ],
)
def test_the_subject_says_who_and_how_many(chats, more, expected):
    assert subject(values(*chats, more_chats=more[0], more_messages=more[1])) == expected


def good_job():
    return missed_job("bob@example.com", "k1")


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda job: job.update(html="<p>hi</p>"), "unknown field 'html'"),
        (lambda job: job.update(template="signin_code"), "no template 'signin_code' on send-mail"),
        (lambda job: job.update(values=[]), "values is not an object"),
        (lambda job: job.update(key=""), "key is not a short string"),
        (lambda job: job["values"].update(extra=1), "missed_messages: values are not"),
        (lambda job: job["values"].update(chats=[]), "missed_messages: chats is not a list of 1 to 10"),
        (lambda job: job["values"]["chats"][0].update(chat_id="../x"), "missed_messages: chat_id is not an id"),
        (lambda job: job["values"]["chats"][0]["messages"][0].update(text="x" * 4001), "missed_messages: text is not"),
        (lambda job: job["values"].update(text=False), "missed_messages: text is not a string of at most 0"),
        (lambda job: job["values"]["chats"][0].update(count=0), "missed_messages: count is not a whole number"),
        (lambda job: job["values"].update(time_zone="Mars/Olympus"), "missed_messages: time_zone is not a zone"),
    ],
)
def test_a_mail_job_is_one_of_our_letters_with_good_values_or_nothing(app, change, reason):
    job = copy.deepcopy(good_job())
    with app.app_context():
        assert letters.letter_of(job, "send-mail") is MISSED_MESSAGES
        change(job)
        with pytest.raises(letters.Invalid) as refused:
            letters.letter_of(job, "send-mail")
    assert str(refused.value).startswith(reason)


@pytest.mark.parametrize(
    "endpoint, taken",
    [
        ("https://fcm.googleapis.com/fcm/send/x", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/x", True),
        ("https://db5p.notify.windows.com/w/?token=x", True),
        ("https://web.push.apple.com/x", True),
        ("http://fcm.googleapis.com/fcm/send/x", False),
        ("https://notify.windows.com.evil.example/x", False),
        ("https://evilnotify.windows.com/x", False),
        ("https://169.254.169.254/latest/meta-data", False),
        ("https://localhost/x", False),
        ("https://fcm.googleapis.com@evil.example/x", False),
        ("fcm.googleapis.com/x", False),
        (None, False),
    ],
)
def test_only_the_push_services_browsers_use(endpoint, taken):
    keys = {"p256dh": "a", "auth": "b"}
    assert (browsers.subscription_problem(endpoint, keys) is None) == taken


@pytest.mark.parametrize(
    "target, kept",
    [
        ("/chats/0123/new", True),
        ("/people?q=ada", True),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("/a\r\nLocation: x", False),
        ("chats", False),
        ("/" + "a" * 3000, False),
    ],
)
def test_sign_in_goes_on_only_to_a_path_on_this_site(target, kept):
    assert local_path(target) == (target if kept else None)


@pytest.mark.parametrize(
    "seconds, words", [(1, "a second"), (4, "4 seconds"), (60, "a minute"), (600, "10 minutes"), (3600, "an hour")]
)
def test_a_delay_in_words(seconds, words):
    assert settings.duration(seconds) == words


def test_the_default_timing_is_the_operators_delay(app):
    with app.app_context():
        assert settings.email_delay({}) == 600 and settings.email_delay({"notify": {"email": "5m"}}) == 300
        assert settings.email_delay({"notify": {"email": "never"}}) is None
        assert settings.email_delay({"notify": {"email": "nonsense"}}) == 600
        app.config["MISSED_MESSAGE_TEXT"] = False
        assert not settings.quotes_text({"notify": {"text": True}})
        app.config["MISSED_MESSAGE_TEXT"] = True
        assert settings.quotes_text({}) and not settings.quotes_text({"notify": {"text": False}})
