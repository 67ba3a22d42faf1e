import { describeDataStoreConformance } from "./data-store-conformance.js";
import { describeFilterConformance } from "./filter-conformance.js";
import { remoteStoreFactory } from "./remote-factory.js";

/**
 * The shared suites against the remote store talking over real HTTP on 127.0.0.1 to the local
 * platform server, itself backed by a fresh DuckDB file per test. Nothing is skipped by name:
 * tests that need a capability the platform store declares it lacks skip by capability.
 */
describeDataStoreConformance("remote (HTTP → local server → DuckDB)", remoteStoreFactory("ds"));

describeFilterConformance("remote (HTTP → local server → DuckDB)", remoteStoreFactory("filter"));
