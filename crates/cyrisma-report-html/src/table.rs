//! Any serializable result as an escaped HTML table: what Python's `_repr_html_` shows in
//! Jupyter for the report, its entries, failure records, export and snapshot summaries and usage
//! rows. Through the same template engine and escaping as the pages.
//!
//! An object's plain fields become a two-column table; each of its lists of objects (a report's
//! `instances` and `errors`) a table of its own with a column per key; a list of objects alone,
//! one table. Nested values are shown as compact JSON. At most [`MAX_ROWS`] rows per table.

use askama::Template;
use serde_json::Value;

use crate::Error;

/// The most rows shown per table (a notebook cell should stay light).
pub const MAX_ROWS: usize = 500;

struct Table {
    name: String,
    total: usize,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    more: usize,
}

#[derive(Template)]
#[template(path = "repr.html")]
struct Repr {
    title: String,
    fields: Vec<(String, String)>,
    tables: Vec<Table>,
}

/// A cell's text: strings as they are, null as empty, anything nested as compact JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        nested => serde_json::to_string(nested).unwrap_or_default(),
    }
}

fn is_rows(value: &Value) -> bool {
    value.as_array().is_some_and(|items| items.iter().all(Value::is_object))
}

fn table(name: &str, items: &[Value]) -> Table {
    let mut columns: Vec<String> = Vec::new();
    for item in items.iter().take(MAX_ROWS) {
        if let Some(object) = item.as_object() {
            for key in object.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
    }
    let rows = items
        .iter()
        .take(MAX_ROWS)
        .map(|item| columns.iter().map(|column| item.get(column).map(cell).unwrap_or_default()).collect())
        .collect();
    Table { name: name.to_owned(), total: items.len(), columns, rows, more: items.len().saturating_sub(MAX_ROWS) }
}

/// `value` as an HTML fragment titled `title`.
pub fn repr_html(title: &str, value: &Value) -> Result<String, Error> {
    let mut page = Repr { title: title.to_owned(), fields: Vec::new(), tables: Vec::new() };
    match value {
        Value::Object(object) => {
            for (key, field) in object {
                match field.as_array() {
                    Some(items) if is_rows(field) => page.tables.push(table(key, items)),
                    _ => page.fields.push((key.clone(), cell(field))),
                }
            }
        }
        Value::Array(items) if is_rows(value) => page.tables.push(table("rows", items)),
        other => page.fields.push(("value".to_owned(), cell(other))),
    }
    page.render().map_err(|error| Error::Render { page: title.to_owned(), message: error.to_string() })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::repr_html;

    #[test]
    fn objects_and_their_lists_become_escaped_tables() {
        let value = json!({
            "instances": [
                {"instance_id": "cc1", "name": "<script>alert(1)</script>", "overall_current": "B"},
                {"instance_id": "cc2", "name": "O'Neil \"&\" Sons", "critical": 3}
            ],
            "errors": [],
            "note": "a < b",
        });
        let html = repr_html("Report", &value).unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{html}");
        assert!(html.contains("O&#39;Neil &#34;&#38;&#34; Sons"), "{html}");
        assert!(html.contains("<caption style=\"text-align:left\">instances (2)</caption>"), "{html}");
        assert!(html.contains("<caption style=\"text-align:left\">errors (0)</caption>"), "{html}");
        // Columns are the union of keys; a missing one is an empty cell.
        assert!(html.contains("<th style=\"text-align:left\">critical</th>"), "{html}");
        assert!(html.contains("<td style=\"text-align:left\">a &#60; b</td>"), "{html}");
    }

    #[test]
    fn long_lists_are_cut() {
        let rows: Vec<_> = (0..super::MAX_ROWS + 3).map(|index| json!({ "n": index })).collect();
        let html = repr_html("Rows", &json!(rows)).unwrap();
        assert!(html.contains("… and 3 more rows"));
        assert_eq!(html.matches("<tr>").count(), super::MAX_ROWS + 1);
    }
}
