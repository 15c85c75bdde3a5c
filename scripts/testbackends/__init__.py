"""The real backends the test suite and the benchmarks talk to, one small module each (stdlib only).

Each backend is one `Backend` record (common.py): its name, the loopback port that answers when it
is up, how to start it in a throwaway folder, which TICKETBLUE_TEST_* variables it exports, and
which backends must be ready before it. supervisor.py derives the start order from those needs,
reuses whatever already answers on a port, and stops only what it started. scripts/backends.py is
the command line.
"""
from testbackends.elasticsearch import ELASTICSEARCH
from testbackends.mariadb import MYSQL, MYSQL_REPLICA
from testbackends.redis import REDIS
from testbackends.redis_cluster import REDIS_CLUSTER
from testbackends.s3 import S3
from testbackends.smtp import SMTP

BACKENDS = (ELASTICSEARCH, MYSQL, MYSQL_REPLICA, REDIS, REDIS_CLUSTER, S3, SMTP)
