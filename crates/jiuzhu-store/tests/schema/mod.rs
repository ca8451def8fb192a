//! The two migration trees describe one schema: the same migration files, and once applied the
//! same tables, columns (type, NOT NULL), primary keys, unique constraints, indexes (with their
//! columns) and triggers. Each backend's schema is read from its own catalogue and brought to one
//! description; the PostgreSQL test compares a fresh database of each.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::{Connection, Row};

/// A column: its portable type (text, int, real, blob) and whether it may be NULL.
pub type Columns = BTreeMap<String, (String, bool)>;

/// One backend's schema, as both describe it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Columns>,
    pub primary_keys: BTreeMap<String, Vec<String>>,
    /// (table, columns) of each UNIQUE constraint.
    pub unique: Vec<(String, Vec<String>)>,
    /// Named indexes: table and leading columns.
    pub indexes: BTreeMap<String, (String, Vec<String>)>,
    pub triggers: Vec<String>,
}

/// The migration file names of `backend`.
pub fn migration_files(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn portable(ty: &str) -> String {
    match ty.to_ascii_lowercase().as_str() {
        "text" | "character varying" | "varchar" => "text",
        "integer" | "bigint" | "smallint" | "int" | "int8" | "int4" => "int",
        "real" | "double precision" | "float8" => "real",
        "blob" | "bytea" => "blob",
        other => return other.to_string(),
    }
    .to_string()
}

fn internal(table: &str) -> bool {
    table.starts_with("sqlite_") || table.starts_with("_sqlx")
}

pub async fn sqlite(url: &str) -> Schema {
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    let mut s = Schema::default();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&mut c)
            .await
            .unwrap();
    for t in tables.into_iter().filter(|t| !internal(t)) {
        let mut cols = Columns::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for r in sqlx::query(&format!("PRAGMA table_info('{t}')"))
            .fetch_all(&mut c)
            .await
            .unwrap()
        {
            let name: String = r.get("name");
            let key: i64 = r.get("pk");
            let not_null: i64 = r.get("notnull");
            cols.insert(
                name.clone(),
                (
                    portable(&r.get::<String, _>("type")),
                    not_null == 0 && key == 0,
                ),
            );
            if key > 0 {
                pk.push((key, name));
            }
        }
        pk.sort();
        s.primary_keys
            .insert(t.clone(), pk.into_iter().map(|(_, n)| n).collect());
        for r in sqlx::query(&format!("PRAGMA index_list('{t}')"))
            .fetch_all(&mut c)
            .await
            .unwrap()
        {
            let name: String = r.get("name");
            let origin: String = r.get("origin");
            let columns: Vec<String> = sqlx::query(&format!("PRAGMA index_info('{name}')"))
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>("name"))
                .collect();
            match origin.as_str() {
                "u" => s.unique.push((t.clone(), columns)),
                "c" => {
                    s.indexes.insert(name, (t.clone(), columns));
                }
                _ => {}
            }
        }
        s.tables.insert(t, cols);
    }
    s.unique.sort();
    s.triggers =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            .fetch_all(&mut c)
            .await
            .unwrap();
    s
}

pub async fn postgres(url: &str) -> Schema {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let mut s = Schema::default();
    for r in sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, \
         is_nullable::text AS nullable FROM information_schema.columns \
         WHERE table_schema = 'public'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
    {
        let t: String = r.get("t");
        if internal(&t) {
            continue;
        }
        s.tables.entry(t).or_default().insert(
            r.get("c"),
            (
                portable(&r.get::<String, _>("ty")),
                r.get::<String, _>("nullable") == "YES",
            ),
        );
    }
    let constraint_columns = "SELECT tc.table_name::text AS t, tc.constraint_name::text AS n, \
         kcu.column_name::text AS c FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name \
         AND kcu.table_schema = tc.table_schema \
         WHERE tc.table_schema = 'public' AND tc.constraint_type = $1 \
         ORDER BY tc.table_name, tc.constraint_name, kcu.ordinal_position";
    for r in sqlx::query(constraint_columns)
        .bind("PRIMARY KEY")
        .fetch_all(&mut c)
        .await
        .unwrap()
    {
        let t: String = r.get("t");
        if !internal(&t) {
            s.primary_keys.entry(t).or_default().push(r.get("c"));
        }
    }
    for t in s.tables.keys() {
        s.primary_keys.entry(t.clone()).or_default();
    }
    let mut unique: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut constraint_names = Vec::new();
    for r in sqlx::query(constraint_columns)
        .bind("UNIQUE")
        .fetch_all(&mut c)
        .await
        .unwrap()
    {
        let n: String = r.get("n");
        constraint_names.push(n.clone());
        unique.entry((r.get("t"), n)).or_default().push(r.get("c"));
    }
    s.unique = unique.into_iter().map(|((t, _), cols)| (t, cols)).collect();
    s.unique.sort();
    for r in sqlx::query(
        "SELECT i.relname::text AS n, t.relname::text AS t, a.attname::text AS c \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) ON true \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE ns.nspname = 'public' AND NOT x.indisprimary ORDER BY i.relname, k.ord",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
    {
        let n: String = r.get("n");
        if constraint_names.contains(&n) {
            continue;
        }
        let entry = s
            .indexes
            .entry(n)
            .or_insert_with(|| (r.get("t"), Vec::new()));
        entry.1.push(r.get("c"));
    }
    let mut triggers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT trigger_name::text FROM information_schema.triggers \
         WHERE trigger_schema = 'public'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    triggers.sort();
    s.triggers = triggers;
    s
}
