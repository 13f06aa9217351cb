import type { AbortableOperationOptions, DatabaseConnection, Dialect, Driver, KyselyPlugin, TransactionSettings } from 'kysely';

/**
 * Watches a database handle's work from outside the application (bench/db-cost.ts
 * counts the statements, transactions and rows of each flow). The plugin sees every
 * statement and its result; a transaction's BEGIN and COMMIT are issued by the driver,
 * outside the plugins, so the driver is wrapped to report them.
 */
export interface DatabaseObserver {
  plugin: KyselyPlugin;
  onTransaction(step: 'begin' | 'commit' | 'rollback'): void;
}

/** `dialect` as is without an observer; else one whose driver reports each transaction step to it. */
export function observedDialect(dialect: Dialect, observer: DatabaseObserver | undefined): Dialect {
  if (!observer) return dialect;
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => new ObservedDriver(dialect.createDriver(), observer),
  };
}

class ObservedDriver implements Driver {
  constructor(
    private readonly driver: Driver,
    private readonly observer: DatabaseObserver,
  ) {}

  init(options?: AbortableOperationOptions) {
    return this.driver.init(options);
  }

  acquireConnection(options?: AbortableOperationOptions) {
    return this.driver.acquireConnection(options);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    await this.driver.beginTransaction(connection, settings);
    this.observer.onTransaction('begin');
  }

  async commitTransaction(connection: DatabaseConnection) {
    await this.driver.commitTransaction(connection);
    this.observer.onTransaction('commit');
  }

  async rollbackTransaction(connection: DatabaseConnection) {
    await this.driver.rollbackTransaction(connection);
    this.observer.onTransaction('rollback');
  }

  releaseConnection(connection: DatabaseConnection, options?: AbortableOperationOptions) {
    return this.driver.releaseConnection(connection, options);
  }

  destroy(options?: AbortableOperationOptions) {
    return this.driver.destroy(options);
  }
}
