//! The chart of scenario 6, written by hand: log2 size on x, GB/s on y.

use crate::curve::Curve;
use crate::stats::size_name;

/// A hand-written SVG line chart: log2 size on x, GB/s on y.
pub fn svg(c: &Curve, title: &str) -> String {
    let (w, h) = (860.0, 480.0);
    let (l, r, t, b) = (70.0, 300.0, 50.0, 60.0);
    let pw = w - l - r;
    let ph = h - t - b;
    let ymax_raw = c
        .gbps
        .iter()
        .flat_map(|(_, v)| v.iter())
        .copied()
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max);
    let step = nice_step(ymax_raw / 5.0);
    let ymax = ((ymax_raw / step).ceil() * step).max(step);
    let x0 = (c.sizes[0] as f64).log2();
    let x1 = (*c.sizes.last().unwrap() as f64).log2();
    let px = |s: u64| l + ((s as f64).log2() - x0) / (x1 - x0).max(1.0) * pw;
    let py = |g: f64| t + ph - g / ymax * ph;
    let mut s = String::new();
    s += &format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    s += &format!("<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n");
    s += &format!(
        "<text x=\"{}\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">{}</text>\n",
        l + pw / 2.0,
        esc(title)
    );
    // grid and y labels
    let mut y = 0.0;
    while y <= ymax + 1e-9 {
        let yy = py(y);
        s += &format!(
            "<line x1=\"{l}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            l + pw,
            l - 6.0,
            yy + 4.0,
            trim_num(y)
        );
        y += step;
    }
    for &sz in &c.sizes {
        let xx = px(sz);
        s += &format!(
            "<line x1=\"{xx:.1}\" y1=\"{t}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>\n<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            t + ph,
            t + ph + 18.0,
            size_name(sz)
        );
    }
    s += &format!(
        "<rect x=\"{l}\" y=\"{t}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#333\"/>\n"
    );
    s += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">bytes per call (log scale)</text>\n",
        l + pw / 2.0,
        h - 18.0
    );
    s += &format!(
        "<text transform=\"translate(20,{:.1}) rotate(-90)\" text-anchor=\"middle\">GB/s</text>\n",
        t + ph / 2.0
    );
    for (i, (m, v)) in c.gbps.iter().enumerate() {
        let pts: Vec<String> = c
            .sizes
            .iter()
            .zip(v)
            .filter(|(_, g)| g.is_finite())
            .map(|(&sz, &g)| format!("{:.1},{:.1}", px(sz), py(g)))
            .collect();
        let dash = if m.dashed() {
            " stroke-dasharray=\"6,4\""
        } else {
            ""
        };
        s += &format!(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n",
            m.color(),
            dash,
            pts.join(" ")
        );
        for p in &pts {
            let (a, bb) = p.split_once(',').unwrap();
            s += &format!(
                "<circle cx=\"{a}\" cy=\"{bb}\" r=\"3\" fill=\"{}\"/>\n",
                m.color()
            );
        }
        let ly = t + 10.0 + i as f64 * 22.0;
        let lx = l + pw + 16.0;
        s += &format!(
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{:.1}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{}/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            lx + 26.0,
            m.color(),
            dash,
            lx + 32.0,
            ly + 4.0,
            esc(m.name())
        );
    }
    s += "</svg>\n";
    s
}

fn nice_step(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= x {
            return m * p;
        }
    }
    10.0 * p
}

fn trim_num(y: f64) -> String {
    let s = format!("{:.2}", y);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
