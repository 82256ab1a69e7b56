"""Models whose state and health change only through their transition methods.

A plain ``device.health = BAD; device.save()`` would skip the rules and the
history; ``save()`` refuses it. Transition methods set the fields through
``_set_guarded`` which records that the change was deliberate.
"""

from typing import Any, ClassVar

from django.db import models

from lava_scheduler.lab.states import TransitionError


class GuardedStateModel(models.Model):
    GUARDED_FIELDS: ClassVar[tuple[str, ...]] = ("state", "health")

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._remember_guarded()
        return instance

    def _remember_guarded(self) -> None:
        self._guarded_saved = {name: self.__dict__.get(name) for name in self.GUARDED_FIELDS}
        self._guarded_allowed: set[str] = set()

    def _set_guarded(self, name: str, value: Any) -> None:
        setattr(self, name, value)
        if not hasattr(self, "_guarded_saved"):
            self._remember_guarded()
        self._guarded_allowed.add(name)

    def save(self, *args, **kwargs) -> None:
        saved = getattr(self, "_guarded_saved", None)
        if saved is not None and not self._state.adding:
            for name, old in saved.items():
                if getattr(self, name) != old and name not in self._guarded_allowed:
                    raise TransitionError(
                        f"{type(self).__name__} {self.pk}: {name} may only change through a transition method"
                    )
        super().save(*args, **kwargs)
        self._remember_guarded()
