"""A chat room's rules without any networking: numbering, history, gaps, ids and nicks."""

import pytest

from pyro_objects.chat.room import HISTORY, Room


def posted(room: Room, count: int, nick: str = "bob") -> list[int]:
    return [room.post(nick, f"m{n}", f"id{room.last_seq + 1}")[0] for n in range(count)]


def seqs(events: list[dict]) -> list[int]:
    return [event["seq"] for event in events if event["kind"] == "message"]


def test_messages_are_numbered_from_1_and_the_last_100_are_held():
    room = Room("lobby")
    assert posted(room, 150) == list(range(1, 151))
    assert seqs(room.replay(None)) == list(range(51, 151))
    assert len(room.history) == HISTORY


@pytest.mark.parametrize("since, gap, first", [
    (150, None, None),   # seen everything
    (120, None, 121),    # all that was missed is held
    (50, None, 51),      # just so
    (10, 40, 51),        # 11..50 are gone: a gap event says so, first
    (0, 50, 51),
])
def test_replay_after_since_leads_with_a_gap_when_more_was_missed(since, gap, first):
    room = Room("lobby")
    posted(room, 150)
    events = room.replay(since)
    gaps = [(e["after"], e["missed"]) for e in events[:1] if e["kind"] == "gap"]
    assert gaps == ([(since, gap)] if gap else [])
    assert len(events) == len(seqs(events)) + len(gaps)
    assert seqs(events) == (list(range(first, 151)) if first else [])


def test_since_beyond_the_last_message_is_refused():
    room = Room("lobby")
    posted(room, 3)
    with pytest.raises(ValueError, match="since must be at most the room's last sequence "
                                         "number 3 \\(got 4\\)"):
        room.replay(4)


def test_a_message_id_posts_once_and_belongs_to_its_nick():
    room = Room("lobby")
    assert room.post("bob", "hi", "x1")[0] == 1
    assert room.post("Bob", "hi again", "x1") == (1, None)  # the same nick, any case
    with pytest.raises(ValueError, match="used by another nick"):
        room.post("cy", "hi", "x1")
    assert [e["text"] for e in room.history] == ["hi"]


def test_nicks_are_unique_regardless_of_case_and_freed_on_leaving():
    room = Room("lobby")
    room.add("Ana", object())
    with pytest.raises(ValueError, match="nick 'ana' is taken in room 'lobby'"):
        room.add("ana", object())
    assert room.who() == ["Ana"]
    assert room.remove("ana", "dropped")["kind"] == "dropped"
    room.add("ana", object())
    assert room.who() == ["ana"]


def test_text_is_kept_exactly_as_given():
    room = Room("lobby")
    text = "<script>alert(1)</script>\x1b[2J  \n\u202e"
    room.post("bob", text, "x1")
    assert room.replay(None)[0]["text"] == text
