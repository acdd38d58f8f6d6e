"""The job queue (huey): tasks and periodic tasks the domains register, run by a worker."""
