#!/bin/sh
# decamp benchmark: a stand-in for a worker process.
exec sleep infinity
