"""Test jobs: their definition, who may see them, and their life from Submitted to Finished."""
