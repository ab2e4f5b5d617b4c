//! Statistics over rounds (median, range), number formatting, and the
//! report's building blocks: tables, targets, sections.

/// Median of a non-empty sample (NaN when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// min and max of a sample.
pub fn range(v: &[f64]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &x in v {
        if !x.is_nan() {
            lo = lo.min(x);
            hi = hi.max(x);
        }
    }
    (lo, hi)
}

/// Formats a number with `d` decimals, or "-" for NaN.
pub fn f(x: f64, d: usize) -> String {
    if x.is_nan() || x.is_infinite() {
        "-".into()
    } else {
        format!("{:.*}", d, x)
    }
}

/// Formats a ratio as "1.23x".
pub fn ratio(x: f64) -> String {
    if x.is_nan() || x.is_infinite() {
        "-".into()
    } else {
        format!("{:.2}x", x)
    }
}

/// Human size: 1 KiB, 64 KiB, 1 MiB, 1 GiB.
pub fn size_name(n: u64) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{} B", n)
    }
}

/// A Markdown table.
#[derive(Default, Clone)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        s += &format!("| {} |\n", self.headers.join(" | "));
        s += &format!(
            "|{}\n",
            self.headers
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { " --- |" } else { " ---: |" })
                .collect::<String>()
        );
        for r in &self.rows {
            s += &format!("| {} |\n", r.join(" | "));
        }
        s
    }
}

/// A performance target: met, missed, or not measured.
#[derive(Clone)]
pub struct Target {
    pub what: String,
    pub met: Option<bool>,
    pub detail: String,
}

/// One scenario's results for the report.
#[derive(Default, Clone)]
pub struct Section {
    pub key: String,
    pub title: String,
    pub intro: String,
    pub tables: Vec<(String, Table)>,
    pub targets: Vec<Target>,
    pub notes: Vec<String>,
}
