"""``scheduler.aliases.*`` and ``scheduler.tags.*``."""

from typing import Any

from lava_scheduler.lab.models import Alias, Tag
from lava_server.xmlrpc import lookup
from lava_server.xmlrpc.registry import Context, fault, method, require_admin


@method("scheduler.aliases.add")
def aliases_add(ctx: Context, name: str, device_type: str) -> None:
    """Add alias ``name`` for ``device_type``."""
    require_admin(ctx, "lab.add_alias")
    alias = Alias(name=str(name), device_type=lookup.device_type(device_type, ctx))
    alias.full_clean()
    alias.save()


@method("scheduler.aliases.delete")
def aliases_delete(ctx: Context, name: str) -> None:
    """Remove an alias."""
    require_admin(ctx, "lab.delete_alias")
    if not Alias.objects.filter(name=str(name)).delete()[0]:
        raise fault(404, f"Alias '{name}' was not found.")


@method("scheduler.aliases.list")
def aliases_list(ctx: Context) -> list[str]:
    """Every alias name."""
    return list(Alias.objects.order_by("name").values_list("name", flat=True))


@method("scheduler.aliases.show")
def aliases_show(ctx: Context, name: str) -> dict[str, str]:
    """``{name, device_type}``."""
    alias = Alias.objects.filter(name=str(name)).first()
    if alias is None:
        raise fault(404, f"Alias '{name}' was not found.")
    return {"name": alias.name, "device_type": alias.device_type_id}


@method("scheduler.get_device_type_by_alias")
def device_type_by_alias(ctx: Context, name: str) -> dict[str, str]:
    """Old API: ``{alias: device type}``."""
    shown = aliases_show(ctx, name)
    return {shown["name"]: shown["device_type"]}


@method("scheduler.tags.add")
def tags_add(ctx: Context, name: str, description: Any = None) -> None:
    """Add a tag."""
    require_admin(ctx, "lab.add_tag")
    tag = Tag(name=str(name), description=description or "")
    tag.full_clean()
    tag.save()


@method("scheduler.tags.delete")
def tags_delete(ctx: Context, name: str) -> None:
    """Remove a tag (from every device and job too)."""
    require_admin(ctx, "lab.delete_tag")
    if not Tag.objects.filter(name=str(name)).delete()[0]:
        raise fault(404, f"Tag '{name}' was not found.")


@method("scheduler.tags.list")
def tags_list(ctx: Context) -> list[dict[str, str]]:
    """Every tag: ``{name, description}``."""
    return [{"name": t["name"], "description": t["description"]} for t in Tag.objects.values("name", "description")]


@method("scheduler.tags.show")
def tags_show(ctx: Context, name: str) -> dict[str, Any]:
    """``{name, description, devices}``."""
    tag = Tag.objects.filter(name=str(name)).first()
    if tag is None:
        raise fault(404, f"Tag '{name}' was not found.")
    devices = list(tag.devices.order_by("hostname").values_list("hostname", flat=True))
    return {"name": tag.name, "description": tag.description, "devices": devices}
