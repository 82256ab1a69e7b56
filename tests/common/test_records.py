"""``@record``: what lava-run's start-up classes rely on of a data class."""

import pytest

from lava_common.records import FrozenRecordError, field, record


@record
class Box:
    name: str
    size: int = 1
    tags: list[str] = field(default_factory=list)


@record(frozen=True)
class Point:
    x: int
    y: int = 0


def test_positional_keyword_and_default_arguments():
    assert (Box("a").name, Box("a").size, Box("a").tags) == ("a", 1, [])
    box = Box("b", 2, tags=["t"])
    assert (box.name, box.size, box.tags) == ("b", 2, ["t"])
    assert Box(size=3, name="c").size == 3


def test_a_factory_gives_each_record_its_own_value():
    first, second = Box("a"), Box("b")
    first.tags.append("x")
    assert second.tags == []
    assert "tags" not in Box.__dict__  # the marker does not stay on the class


@pytest.mark.parametrize("make, message", [
    (lambda: Box(), "missing required argument: 'name'"),
    (lambda: Box("a", 1, [], 4), "takes 3 arguments but 4 were given"),
    (lambda: Box("a", name="b"), "multiple values for argument 'name'"),
    (lambda: Box("a", colour="red"), "unexpected keyword argument 'colour'"),
])
def test_wrong_arguments_are_type_errors(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_equality_repr_and_hash():
    assert Box("a", 2) == Box("a", 2)
    assert Box("a", 2) != Box("a", 3)
    assert Box("a") != ("a", 1, [])
    assert repr(Box("a")) == "Box(name='a', size=1, tags=[])"
    with pytest.raises(TypeError):
        hash(Box("a"))  # mutable: unhashable, as a dataclass
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert {Point(1, 2), Point(1, 2)} == {Point(1, 2)}


def test_a_frozen_record_refuses_changes():
    point = Point(1)
    with pytest.raises(FrozenRecordError):
        point.x = 2
    with pytest.raises(AttributeError):
        del point.y
    assert (point.x, point.y) == (1, 0)


def test_a_record_that_contains_itself_has_a_repr():
    box = Box("loop")
    box.tags.append(box)
    assert repr(box) == "Box(name='loop', size=1, tags=[...])"


def test_a_required_field_after_a_default_is_refused():
    with pytest.raises(TypeError, match="without a default follows"):
        @record
        class Bad:
            a: int = 1
            b: int
