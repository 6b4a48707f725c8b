//! A cooperative simulated person: someone in front of the simulated camera who reads the prompt
//! on the screen and does what it says — turns their head to the left or right and back, or
//! blinks — after a human reaction delay, with human timing, and again when the prompt is still
//! there a moment later (as a person does whose first try went unnoticed).
//!
//! The camera asks the subject where its head and eyelids are at each frame's time; whoever shows
//! the prompts (the capture step) tells the subject what is asked through a shared
//! [`CooperativeSubject`] handle. This module knows only head and eyelid movements: mapping a
//! liveness challenge to them is the caller's business.

use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};

/// What the person in front of the simulated camera is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubjectAction {
    /// Look straight at the camera (no prompt to act on).
    #[default]
    Neutral,
    /// Turn the head to the subject's own left, then back.
    TurnLeft,
    /// Turn the head to the subject's own right, then back.
    TurnRight,
    /// Close both eyes and open them again.
    Blink,
}

/// Where the subject's head and eyelids are at one moment, on top of the natural sway.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SubjectMovement {
    /// Head rotation about its vertical axis, radians, > 0 to the subject's right (as
    /// [`super::Pose::yaw`]).
    pub yaw: f32,
    /// How far the eyelids are closed: 0 open, 1 shut (as [`super::Pose::eyelids`]).
    pub eyelids: f32,
}

/// Reaction time from the moment a prompt appears to the start of the movement, seconds
/// (a person reading a short prompt: a few hundred milliseconds).
const REACTION: (f32, f32) = (0.30, 0.60);
/// How long the subject waits, after finishing a movement, for the prompt to change before trying
/// again, seconds.
const PATIENCE: (f32, f32) = (0.7, 1.1);
/// Pause between two movements (a turn back to the front before a blink or the other turn).
const PAUSE: (f32, f32) = (0.20, 0.35);
/// A turn: out, hold, back (seconds) and the largest yaw (radians, about 40–46°; the face mesh
/// reads a rendered turn at roughly 60 % of its geometric angle, and a turn challenge asks for
/// 18° as the mesh sees it).
const TURN_OUT: (f32, f32) = (0.45, 0.65);
const TURN_HOLD: (f32, f32) = (0.15, 0.35);
const TURN_BACK: (f32, f32) = (0.45, 0.60);
const TURN_YAW: (f32, f32) = (0.70, 0.80);
/// A deliberate blink on request: closing, shut, opening (seconds). Slower than a spontaneous
/// blink (about 0.1–0.15 s closing, 0.2 s opening), as people blink when asked to.
const BLINK_CLOSE: (f32, f32) = (0.08, 0.12);
const BLINK_SHUT: (f32, f32) = (0.12, 0.22);
const BLINK_OPEN: (f32, f32) = (0.15, 0.22);
/// Each retry of a movement that was not accepted is a little larger (a person turns further when
/// asked again), up to this factor.
const RETRY_GROWTH: f32 = 0.1;
const RETRY_MAX: f32 = 1.2;

/// One movement in time.
#[derive(Debug, Clone, Copy)]
struct Gesture {
    start: f32,
    kind: GestureKind,
}

#[derive(Debug, Clone, Copy)]
enum GestureKind {
    /// Signed peak yaw (radians) with the out, hold and back durations.
    Turn { peak: f32, out: f32, hold: f32, back: f32 },
    /// Closing, shut and opening durations.
    Blink { close: f32, shut: f32, open: f32 },
}

impl Gesture {
    fn duration(&self) -> f32 {
        match self.kind {
            GestureKind::Turn { out, hold, back, .. } => out + hold + back,
            GestureKind::Blink { close, shut, open } => close + shut + open,
        }
    }

    fn end(&self) -> f32 {
        self.start + self.duration()
    }

    /// The gesture's contribution at `t`.
    fn at(&self, t: f32) -> SubjectMovement {
        let s = t - self.start;
        if s <= 0.0 || s >= self.duration() {
            return SubjectMovement::default();
        }
        match self.kind {
            GestureKind::Turn { peak, out, hold, back } => {
                SubjectMovement { yaw: peak * rise_hold_fall(s, out, hold, back), eyelids: 0.0 }
            }
            GestureKind::Blink { close, shut, open } => {
                SubjectMovement { yaw: 0.0, eyelids: rise_hold_fall(s, close, shut, open) }
            }
        }
    }
}

/// The subject's state: what was asked, when it saw it, what it is doing.
#[derive(Debug)]
struct Behaviour {
    asked: SubjectAction,
    /// The ask changed since the subject last looked at the screen.
    unseen: bool,
    /// Movements scheduled or under way (finished ones are dropped).
    gestures: Vec<Gesture>,
    /// End of the latest movement (scheduled or done) in the current stream.
    busy_until: f32,
    /// When the subject, still asked the same, tries again.
    retry_at: f32,
    /// Tries of the current ask so far.
    tries: u32,
    /// Time of the latest frame asked about: an earlier time means a new stream.
    last_t: f32,
    rng: rand::rngs::StdRng,
}

impl Behaviour {
    fn new(seed: u64) -> Self {
        Self {
            asked: SubjectAction::Neutral,
            unseen: false,
            gestures: Vec::new(),
            busy_until: f32::NEG_INFINITY,
            retry_at: f32::INFINITY,
            tries: 0,
            last_t: f32::NEG_INFINITY,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
        }
    }

    fn draw(&mut self, range: (f32, f32)) -> f32 {
        self.rng.gen_range(range.0..range.1)
    }

    /// Schedules one try of the current ask, reacting to a prompt seen at `seen`.
    fn act(&mut self, seen: f32) {
        let growth = (1.0 + RETRY_GROWTH * self.tries as f32).min(RETRY_MAX);
        let kind = match self.asked {
            SubjectAction::Neutral => return,
            SubjectAction::TurnLeft | SubjectAction::TurnRight => {
                let sign = if self.asked == SubjectAction::TurnLeft { -1.0 } else { 1.0 };
                GestureKind::Turn {
                    peak: sign * self.draw(TURN_YAW) * growth,
                    out: self.draw(TURN_OUT),
                    hold: self.draw(TURN_HOLD),
                    back: self.draw(TURN_BACK),
                }
            }
            SubjectAction::Blink => GestureKind::Blink {
                close: self.draw(BLINK_CLOSE),
                shut: self.draw(BLINK_SHUT) * growth,
                open: self.draw(BLINK_OPEN),
            },
        };
        let reaction = self.draw(REACTION);
        let pause = self.draw(PAUSE);
        // One movement at a time: a person finishes turning back before doing the next thing.
        let start = (seen + reaction).max(self.busy_until + pause);
        let gesture = Gesture { start, kind };
        self.busy_until = gesture.end();
        self.retry_at = gesture.end() + self.draw(PATIENCE);
        self.gestures.push(gesture);
        self.tries += 1;
    }

    fn at(&mut self, t: f32) -> SubjectMovement {
        if t < self.last_t {
            // A new stream (the camera restarted): the person starts afresh, still asked the same.
            self.gestures.clear();
            self.busy_until = f32::NEG_INFINITY;
            self.unseen = true;
        }
        self.last_t = t;
        if self.unseen {
            // A new prompt: what was planned but not begun is dropped, what is under way finishes.
            self.unseen = false;
            self.tries = 0;
            self.retry_at = f32::INFINITY;
            self.gestures.retain(|g| g.start <= t);
            self.busy_until = self.gestures.iter().map(Gesture::end).fold(f32::NEG_INFINITY, f32::max);
            self.act(t);
        } else if t > self.retry_at {
            // Still asked after the last try ended: the try went unnoticed, try again.
            self.act(t);
        }
        self.gestures.retain(|g| g.end() > t);
        self.gestures.iter().fold(SubjectMovement::default(), |acc, g| {
            let m = g.at(t);
            SubjectMovement { yaw: acc.yaw + m.yaw, eyelids: (acc.eyelids + m.eyelids).min(1.0) }
        })
    }
}

/// A handle on the cooperative person in front of a simulated camera (see the module doc).
/// Clones share the same person: the camera keeps one, the capture step that shows the prompts
/// holds another.
#[derive(Debug, Clone)]
pub struct CooperativeSubject {
    behaviour: Arc<Mutex<Behaviour>>,
}

impl CooperativeSubject {
    /// A new person looking straight at the camera; `seed` fixes their reaction times and
    /// movements, so a run can be replayed.
    pub fn new(seed: u64) -> Self {
        Self { behaviour: Arc::new(Mutex::new(Behaviour::new(seed))) }
    }

    /// Shows the person a prompt. Asking what is already asked changes nothing (the prompt stays
    /// on the screen); a new ask is seen at the next frame and acted on after the reaction delay.
    pub fn ask(&self, action: SubjectAction) {
        let mut b = self.behaviour.lock().unwrap_or_else(|p| p.into_inner());
        if b.asked != action {
            b.asked = action;
            b.unseen = true;
        }
    }

    /// What the person is currently asked.
    pub fn asked(&self) -> SubjectAction {
        self.behaviour.lock().unwrap_or_else(|p| p.into_inner()).asked
    }

    /// The person's head turn and eyelids at `t` seconds into the camera's stream. Times are
    /// expected in increasing order (frames); an earlier time starts a new stream.
    pub fn movement_at(&self, t: f32) -> SubjectMovement {
        self.behaviour.lock().unwrap_or_else(|p| p.into_inner()).at(t)
    }
}

/// A gesture's envelope at `s` seconds: rises from 0 to 1 over `rise`, holds for `hold`, falls
/// back to 0 over `fall`, with a smooth start and stop of each phase (a raised cosine), as a head
/// turn or an eyelid moves.
fn rise_hold_fall(s: f32, rise: f32, hold: f32, fall: f32) -> f32 {
    let ease = |x: f32, d: f32| 0.5 * (1.0 - (std::f32::consts::PI * (x / d).clamp(0.0, 1.0)).cos());
    if s < rise {
        ease(s, rise)
    } else if s < rise + hold {
        1.0
    } else {
        1.0 - ease(s - rise - hold, fall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples the subject every 1/30 s from `from` to `to`.
    fn track(s: &CooperativeSubject, from: f32, to: f32) -> Vec<(f32, SubjectMovement)> {
        let mut out = Vec::new();
        let mut t = from;
        while t < to {
            out.push((t, s.movement_at(t)));
            t += 1.0 / 30.0;
        }
        out
    }

    #[test]
    fn does_nothing_until_asked_and_reacts_after_a_human_delay() {
        let s = CooperativeSubject::new(1);
        assert!(track(&s, 0.0, 2.0).iter().all(|(_, m)| *m == SubjectMovement::default()));
        s.ask(SubjectAction::TurnLeft);
        let turn = track(&s, 2.0, 4.0);
        let first = turn.iter().find(|(_, m)| m.yaw != 0.0).expect("the subject turned").0;
        assert!((2.0 + REACTION.0..2.0 + REACTION.1 + 0.05).contains(&first), "moved at {first}");
        let peak = turn.iter().map(|(_, m)| m.yaw).fold(0.0f32, f32::min);
        assert!(peak < -0.65, "a turn to the left: {peak}");
        assert!(turn.iter().all(|(_, m)| m.eyelids == 0.0));
        // Back to the front at the end of the turn.
        assert!(turn.last().unwrap().1.yaw.abs() < 1e-3);
    }

    #[test]
    fn blinks_once_per_try_and_tries_again_while_still_asked() {
        let s = CooperativeSubject::new(2);
        s.movement_at(0.0);
        s.ask(SubjectAction::Blink);
        let blinks = track(&s, 0.0, 4.0);
        let closings = blinks.windows(2).filter(|w| w[0].1.eyelids < 0.5 && w[1].1.eyelids >= 0.5).count();
        assert!(closings >= 2, "one blink per try, retried while asked: {closings}");
        let shut = blinks.iter().filter(|(_, m)| m.eyelids > 0.99).count();
        assert!(shut >= 3, "shut for a few frames per blink: {shut}");
        assert!(blinks.iter().all(|(_, m)| m.yaw == 0.0));
        // Once the prompt goes away, so do the movements (the one under way finishes).
        s.ask(SubjectAction::Neutral);
        let after = track(&s, 4.0, 8.0);
        assert!(after.iter().skip(15).all(|(_, m)| *m == SubjectMovement::default()));
    }

    #[test]
    fn the_next_movement_waits_for_the_turn_back() {
        let s = CooperativeSubject::new(3);
        s.ask(SubjectAction::TurnRight);
        let mut moves = track(&s, 0.0, 1.2);
        assert!(moves.iter().any(|(_, m)| m.yaw > 0.6), "turned right");
        // Asked to blink while still turned: the blink comes once the head is back.
        s.ask(SubjectAction::Blink);
        moves.extend(track(&s, 1.2, 4.0));
        for (t, m) in &moves {
            assert!(m.eyelids == 0.0 || m.yaw.abs() < 1e-3, "blinked while turned at {t}: {m:?}");
        }
        assert!(moves.iter().any(|(_, m)| m.eyelids > 0.99), "blinked");
    }

    #[test]
    fn the_same_seed_replays_the_same_person() {
        let run = |seed| {
            let s = CooperativeSubject::new(seed);
            s.ask(SubjectAction::TurnLeft);
            track(&s, 0.0, 3.0).into_iter().map(|(_, m)| m.yaw).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }
}
