//! The training table: named columns of text cells, read row by row through
//! the same [`Event`] trait the scorer uses, so training and scoring featurize
//! identically.

use std::collections::BTreeMap;

use crate::event::{Event, Field};
use crate::{Error, Result};

/// A table of text cells (`None` = empty or absent). Multivalue cells hold
/// their values separated by newlines, as in Splunk's CSV export.
#[derive(Debug, Clone, Default)]
pub struct Table {
    columns: Vec<String>,
    index: BTreeMap<String, usize>,
    cells: Vec<Option<String>>,
    rows: usize,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<String>) -> Result<Table> {
        let mut index = BTreeMap::new();
        for (i, c) in columns.iter().enumerate() {
            if index.insert(c.clone(), i).is_some() {
                return Err(Error::Train(format!(
                    "column `{c}` appears twice in the header"
                )));
            }
        }
        Ok(Table {
            columns,
            index,
            cells: Vec::new(),
            rows: 0,
        })
    }

    /// A table from JSON objects (the union of their keys, in first-seen order).
    /// Arrays become multivalue cells; nested objects are kept as JSON text.
    pub fn from_json_rows(rows: &[serde_json::Map<String, serde_json::Value>]) -> Result<Table> {
        let mut columns: Vec<String> = Vec::new();
        let mut seen = BTreeMap::new();
        for r in rows {
            for k in r.keys() {
                if seen.insert(k.clone(), ()).is_none() {
                    columns.push(k.clone());
                }
            }
        }
        let mut t = Table::new(columns)?;
        for r in rows {
            let cells = t
                .columns
                .iter()
                .map(|c| r.get(c).and_then(json_cell))
                .collect();
            t.push_row(cells)?;
        }
        Ok(t)
    }

    /// Append a row (one cell per column).
    pub fn push_row(&mut self, cells: Vec<Option<String>>) -> Result<()> {
        if cells.len() != self.columns.len() {
            return Err(Error::Train(format!(
                "row {} has {} cells, the header has {} columns",
                self.rows + 1,
                cells.len(),
                self.columns.len()
            )));
        }
        self.cells.extend(cells);
        self.rows += 1;
        Ok(())
    }

    /// Column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `i` as an event.
    pub fn row(&self, i: usize) -> Row<'_> {
        Row { table: self, i }
    }

    /// The cells of column `name`, or None when there is no such column.
    pub fn column(&self, name: &str) -> Option<impl Iterator<Item = Option<&str>> + '_> {
        let c = *self.index.get(name)?;
        let w = self.columns.len();
        Some((0..self.rows).map(move |r| self.cells[r * w + c].as_deref()))
    }
}

fn json_cell(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_cell).collect();
            Some(parts.join("\n"))
        }
        other => Some(other.to_string()),
    }
}

/// One row of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    table: &'a Table,
    i: usize,
}

impl Event for Row<'_> {
    fn field(&self, name: &str) -> Field<'_> {
        let Some(&c) = self.table.index.get(name) else {
            return Field::MISSING;
        };
        match &self.table.cells[self.i * self.table.columns.len() + c] {
            Some(s) if !s.is_empty() => Field::from_text(s),
            _ => Field::MISSING,
        }
    }
}
