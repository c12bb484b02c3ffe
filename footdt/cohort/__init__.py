"""Cohorts: the manifest that ties runners, trials, IMU windows, loads and subject specs together."""
