"""The cluster the tests of this folder share: node 1, then node 2, on one database.

The session's tests share the two nodes (a start costs seconds), each with a
process of its own; a node a test killed is started again before the next test.
tests/cluster/nodes.py says how a node runs and how the database records which
node wrote each history event.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.postgres import PostgresServer

from .nodes import NODE_TRIGGER, Cluster, start_node


@pytest.fixture(scope="session")
def running_cluster(postgres_server: PostgresServer,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Node 1 (which migrates the database), then node 2, on a database of their own."""
    url = postgres_server.create_database()
    folder = tmp_path_factory.mktemp("cluster")
    db = sa.create_engine(url)
    cluster = Cluster([], db, url, folder)
    try:
        cluster.nodes.append(start_node("node-1", url, folder))
        # Node 1 has migrated the database: the history table exists now.
        with db.begin() as conn:
            conn.exec_driver_sql(NODE_TRIGGER)
        cluster.nodes.append(start_node("node-2", url, folder))
        yield cluster
    finally:
        for node in cluster.nodes:
            node.stop()
        db.dispose()
        postgres_server.drop_database(url)


@pytest.fixture
def cluster(running_cluster: Cluster) -> Cluster:
    """The session's two nodes, both running; the tests share them, each with a process
    of its own (a node a test killed is started again for the next)."""
    running_cluster.revive()
    return running_cluster
