import { describeDataStoreConformance } from "./data-store-conformance.js";
import { duckdbStoreFactory } from "./duckdb-factory.js";

describeDataStoreConformance("duckdb", duckdbStoreFactory("conformance"));
