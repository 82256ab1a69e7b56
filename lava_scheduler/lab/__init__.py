"""The lab's hardware: device types, aliases, tags, workers, devices and their history."""
