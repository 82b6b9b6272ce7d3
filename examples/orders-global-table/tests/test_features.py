"""Binds this app's features to the harness's steps (the dr-compliance pytest plugin)."""

from pytest_bdd import scenarios

scenarios("../features")
