"""The scheduler: which queued job runs on which idle device (lava-reference.md §2)."""
