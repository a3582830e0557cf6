import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type TableDefinition, tables } from '../../../shared/store/tables.js';

/** DynamoDB item actions Cairn's functions use (TransactWriteItems is authorised per contained action). */
export const itemActions = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

export type CairnTables = Readonly<Record<TableDefinition['logicalName'], dynamodb.Table>>;

export interface CairnDataProps {
  readonly removalPolicy: RemovalPolicy;
  readonly encryption: 'aws-managed' | 'customer-managed';
}

/** The data: the DynamoDB tables of shared/store/tables.ts and, when customer-managed, the KMS key. */
export class CairnData extends Construct {
  readonly tables: CairnTables;
  readonly encryptionKey?: kms.Key;

  constructor(scope: Construct, id: string, props: CairnDataProps) {
    super(scope, id);
    if (props.encryption === 'customer-managed') {
      this.encryptionKey = new kms.Key(this, 'Key', {
        description: 'Cairn: DynamoDB tables and SQS queues',
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy,
      });
      // EventBridge writes to the encrypted queues and needs the key for that: only on behalf of this
      // account's rules (aws:SourceAccount), so no other account's rule can use it (confused deputy).
      this.encryptionKey.grant(
        new iam.ServicePrincipal('events.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
        'kms:Decrypt',
        'kms:GenerateDataKey',
      );
    }
    this.tables = Object.fromEntries(
      tables.map((definition) => [definition.logicalName, this.table(definition, props.removalPolicy)]),
    ) as Record<TableDefinition['logicalName'], dynamodb.Table>;
  }

  /** The table names, as the `CAIRN_*_TABLE` variables every function reads. */
  get environment(): Record<string, string> {
    return Object.fromEntries(
      tables.map((definition) => [definition.envVar, this.tables[definition.logicalName].tableName]),
    );
  }

  /** Item reads and writes on every table (and `Scan` when asked), per function, nothing account-wide. */
  grantItems(grantee: iam.IGrantable, options: { scan?: boolean } = {}): void {
    for (const table of Object.values(this.tables)) {
      table.grant(grantee, ...itemActions, ...(options.scan ? ['dynamodb:Scan'] : []));
    }
    this.grantKey(grantee);
  }

  /** Use of the key for data the grantee reads and writes (no-op without a customer-managed key). */
  grantKey(grantee: iam.IGrantable, mode: 'read-write' | 'read' = 'read-write'): void {
    if (mode === 'read') {
      this.encryptionKey?.grantDecrypt(grantee);
      return;
    }
    // Named actions rather than grantEncryptDecrypt, whose ReEncrypt*/GenerateDataKey* are wildcards.
    this.encryptionKey?.grant(
      grantee,
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:DescribeKey',
    );
  }

  private table(definition: TableDefinition, removalPolicy: RemovalPolicy): dynamodb.Table {
    const attribute = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.Table(this, `${definition.logicalName}Table`, {
      partitionKey: attribute(definition.partitionKey),
      sortKey: attribute(definition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: definition.ttlAttribute,
      ...(this.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    for (const index of definition.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        ...(index.projection === 'KEYS_ONLY' && { projectionType: dynamodb.ProjectionType.KEYS_ONLY }),
      });
    }
    return table;
  }
}
