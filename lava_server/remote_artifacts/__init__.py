"""Users' remote artifact tokens: named secrets a job's downloads may use (lavacli ``tokens``)."""
