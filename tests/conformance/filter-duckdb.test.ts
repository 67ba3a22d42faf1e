import { duckdbStoreFactory } from "./duckdb-factory.js";
import { describeFilterConformance } from "./filter-conformance.js";

describeFilterConformance("duckdb", duckdbStoreFactory("filter"));
