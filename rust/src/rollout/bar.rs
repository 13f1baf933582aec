//! The progress bar of a long run, on stderr: episodes done of N, steps per second.
//!
//! indicatif draws it (rate-limited, from a ticker thread, so counting a step
//! costs one atomic add), and hides it by itself when stderr is not a terminal.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

const TEMPLATE: &str =
    "{bar:30} {pos}/{len} episodes  {steps} steps  {steps_per_sec} steps/s  [{elapsed_precise}]";

/// A bar counting episodes, with the steps per second beside it.
///
/// ```
/// use _core::rollout::EpisodeBar;
///
/// let bar = EpisodeBar::new(20, false); // not shown: counts only
/// bar.advance(500, 1);
/// assert_eq!(bar.steps(), 500);
/// assert_eq!(bar.suspend(|| 7), 7); // run something (printing) with the bar cleared
/// ```
pub struct EpisodeBar {
    bar: ProgressBar,
    steps: Arc<AtomicU64>,
}

impl EpisodeBar {
    /// A bar for `total` episodes, shown only when `visible` and stderr is a terminal.
    pub fn new(total: u64, visible: bool) -> Self {
        let steps = Arc::new(AtomicU64::new(0));
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        if !bar.is_hidden() {
            let (count, rate) = (Arc::clone(&steps), Arc::clone(&steps));
            let style = ProgressStyle::with_template(TEMPLATE)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "steps",
                    move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}", count.load(Ordering::Relaxed));
                    },
                )
                .with_key(
                    "steps_per_sec",
                    move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let secs = state.elapsed().as_secs_f64();
                        let steps = rate.load(Ordering::Relaxed) as f64;
                        let _ = write!(w, "{:.0}", if secs > 0.0 { steps / secs } else { 0.0 });
                    },
                );
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Self { bar, steps }
    }

    /// Counts `steps` more env steps and `episodes` more finished episodes.
    pub fn advance(&self, steps: u64, episodes: u64) {
        self.steps.fetch_add(steps, Ordering::Relaxed);
        if episodes > 0 {
            self.bar.inc(episodes);
        }
    }

    /// The env steps counted so far.
    pub fn steps(&self) -> u64 {
        self.steps.load(Ordering::Relaxed)
    }

    /// Runs `f` with the bar off the screen, so that what it prints is not mixed
    /// with the bar; the bar comes back after.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Takes the bar off the screen for good (dropping it does too).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for EpisodeBar {
    fn drop(&mut self) {
        self.finish();
    }
}
