//! Planning events: what to write, as the API's own input type, with the references the
//! store would resolve already as ids.

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use meeting_registry::domain::enums::{
    AttendanceMode, EventKind, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use meeting_registry::domain::event::{
    EventInput, Link, LocationInput, OrganiserInput, ParticipantInput,
};
use meeting_registry::domain::time::LocalTime;
use meeting_registry::ids::{EventId, OrganisationId, PersonId, ProgrammeId};
use meeting_registry::store::events::rows::Resolved;

use crate::graph::{Graph, Net, Org, PROGRAMME_SEED};
use crate::rng::Rng;
use crate::vocabulary::{
    CITIES, City, MONTHS, REGULAR_CHAIR_SHARE, REGULAR_CHAIRS, STREETS, SUBJECTS, TOPICS, VENUES,
    ordinal,
};

/// A participant: a person or an organisation, and its role.
pub type Participant = (Option<PersonId>, Option<OrganisationId>, ParticipantRole);

/// An event to write, with its references already as ids.
pub struct Planned {
    pub id: EventId,
    pub input: EventInput,
    /// The slug it is given (a network's series meetings), else it gets its title's.
    pub slug: Option<String>,
    /// What `store::events` would resolve the input's references to.
    pub refs: Resolved,
    pub series: bool,
}

/// Events written together: one event, a forum with its sessions, or a chain.
pub struct Group {
    pub events: Vec<Planned>,
    /// The chain's title, for a chain.
    pub chain: Option<String>,
}

pub struct Planner<'g> {
    pub(crate) graph: &'g Graph,
    /// Network series meetings, in the order they are written.
    series: Vec<(usize, i32, NaiveDate)>,
    remaining: usize,
    city_weights: Vec<u32>,
    first_day: NaiveDate,
    days: usize,
    /// The choices of programmes: a sequence of their own, so the rest of the events stay
    /// what they were for a given seed.
    programme_rng: std::cell::RefCell<Rng>,
}

impl<'g> Planner<'g> {
    pub fn new(graph: &'g Graph, total: usize, seed: u64, rng: &mut Rng) -> Self {
        let last_day = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
        // Each network meets 2–4 times a year from its founding; numbers rise with the dates.
        // Series meetings are at most a fifth of all events (for small runs).
        let mut series = Vec::new();
        for (n, net) in graph.networks.iter().enumerate() {
            let per_year = rng.range(2, 4) as u64;
            let mut day = net
                .established
                .checked_add_days(Days::new(rng.range(20, 120) as u64))
                .unwrap_or(net.established);
            let mut number = 1;
            while day <= last_day {
                series.push((n, number, day));
                number += 1;
                day = day
                    .checked_add_days(Days::new(365 / per_year - 20 + rng.below(40) as u64))
                    .unwrap_or(last_day);
            }
        }
        let cap = total / 5;
        if series.len() > cap {
            // Keep each network's first meetings so numbers still start at 1 and rise.
            series.sort_by_key(|(_, number, _)| *number);
            series.truncate(cap);
        }
        series.sort_by_key(|(_, _, day)| *day);
        let first_day = NaiveDate::from_ymd_opt(2006, 1, 1).unwrap_or_default();
        Self {
            graph,
            series,
            remaining: total,
            city_weights: CITIES.iter().map(|c| c.weight).collect(),
            first_day,
            days: (last_day - first_day).num_days() as usize,
            programme_rng: std::cell::RefCell::new(Rng::new(seed ^ PROGRAMME_SEED ^ 1)),
        }
    }

    /// For about a fifth of the events, a programme whose period covers `day` (when any does).
    fn programme_on(&self, day: NaiveDate) -> Option<ProgrammeId> {
        let mut rng = self.programme_rng.borrow_mut();
        if !rng.chance(0.2) {
            return None;
        }
        let covering: Vec<ProgrammeId> = self
            .graph
            .programmes
            .iter()
            .filter(|p| p.start <= day && day <= p.end)
            .map(|p| p.id)
            .collect();
        (!covering.is_empty()).then(|| covering[rng.below(covering.len())])
    }

    pub fn next_group(&mut self, rng: &mut Rng) -> Option<Group> {
        if self.remaining == 0 {
            return None;
        }
        // Series meetings are spread through the run.
        if !self.series.is_empty() && rng.below(self.remaining) < self.series.len() {
            let (n, number, day) = self.series.remove(0);
            self.remaining -= 1;
            return Some(Group {
                events: vec![self.series_meeting(n, number, day, rng)],
                chain: None,
            });
        }
        let budget = self.remaining - self.series.len();
        if budget == 0 {
            // Only series meetings are left.
            let (n, number, day) = self.series.remove(0);
            self.remaining -= 1;
            return Some(Group {
                events: vec![self.series_meeting(n, number, day, rng)],
                chain: None,
            });
        }
        let day = self.random_day(rng);
        let city = &CITIES[rng.weighted(&self.city_weights)];
        let group = if budget >= 3 && rng.chance(0.02) {
            self.chain(day, city, rng.range(2, 3), rng)
        } else if budget >= 4 && rng.chance(0.008) {
            self.forum_with_sessions(day, city, rng.range(2, 3), rng)
        } else {
            Group {
                events: vec![self.event(day, city, None, rng)],
                chain: None,
            }
        };
        self.remaining -= group.events.len();
        Some(group)
    }

    fn random_day(&self, rng: &mut Rng) -> NaiveDate {
        self.first_day
            .checked_add_days(Days::new(rng.below(self.days) as u64))
            .unwrap_or(self.first_day)
    }

    fn organisers(
        &self,
        rng: &mut Rng,
        first: Option<usize>,
    ) -> Vec<(OrganisationId, OrganiserRole)> {
        let orgs = &self.graph.organisations;
        let count = rng.range(1, 3);
        let mut chosen = rng.distinct(orgs.len(), count);
        if let Some(first) = first {
            chosen.retain(|i| *i != first);
            chosen.insert(0, first);
            chosen.truncate(3);
        }
        chosen
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let role = if i == 0 {
                    OrganiserRole::Organiser
                } else {
                    *rng.pick(&[
                        OrganiserRole::CoOrganiser,
                        OrganiserRole::Host,
                        OrganiserRole::Funder,
                        OrganiserRole::Supporter,
                        OrganiserRole::ImplementingPartner,
                    ])
                };
                (orgs[o].id, role)
            })
            .collect()
    }

    fn participants(&self, rng: &mut Rng) -> Vec<Participant> {
        let count = rng.weighted(&[15, 20, 20, 20, 15, 10]);
        let drawn = rng.distinct(self.graph.people.len(), count);
        let mut people = drawn.iter().copied();
        (0..count)
            .map(|i| {
                let role = match i {
                    0 => ParticipantRole::Chair,
                    _ => *rng.pick(&[
                        ParticipantRole::Speaker,
                        ParticipantRole::Speaker,
                        ParticipantRole::Participant,
                        ParticipantRole::Participant,
                        ParticipantRole::CoChair,
                        ParticipantRole::Observer,
                        ParticipantRole::Invitee,
                    ]),
                };
                if rng.chance(0.15) {
                    let o = rng.below(self.graph.organisations.len());
                    (None, Some(self.graph.organisations[o].id), role)
                } else {
                    let mut p = people.next().unwrap_or(0);
                    // Chairs repeat: the registry's regulars (the first few people) chair
                    // 30% of the meetings, as a network's chair or a ministry's coordinator
                    // does. A regular already drawn for this event keeps the
                    // random pick, so no one takes two seats.
                    if i == 0 && rng.chance(REGULAR_CHAIR_SHARE) {
                        let regular = rng.below(REGULAR_CHAIRS.min(self.graph.people.len()));
                        if !drawn.contains(&regular) {
                            p = regular;
                        }
                    }
                    (Some(self.graph.people[p].0), None, role)
                }
            })
            .collect()
    }

    fn topics(&self, rng: &mut Rng, first: Option<&str>) -> Vec<String> {
        let mut topics: Vec<String> = first.map(str::to_owned).into_iter().collect();
        let count = rng.weighted(&[10, 30, 30, 20, 10]);
        for i in rng.distinct(TOPICS.len(), count) {
            if !topics.iter().any(|t| t == TOPICS[i]) {
                topics.push(TOPICS[i].to_owned());
            }
        }
        topics
    }

    fn status(&self, day: NaiveDate, rng: &mut Rng) -> EventStatus {
        let upcoming = day.year() >= 2026;
        let weights: [u32; 6] = if upcoming {
            [870, 80, 10, 10, 30, 0]
        } else {
            [925, 5, 10, 10, 30, 20]
        };
        [
            EventStatus::Scheduled,
            EventStatus::Tentative,
            EventStatus::Postponed,
            EventStatus::Rescheduled,
            EventStatus::Cancelled,
            EventStatus::MovedOnline,
        ][rng.weighted(&weights)]
    }

    fn times(&self, rng: &mut Rng) -> (Option<LocalTime>, Option<LocalTime>) {
        if rng.chance(0.45) {
            let start = NaiveTime::from_hms_opt(rng.range(8, 10) as u32, *rng.pick(&[0, 30]), 0);
            let end = NaiveTime::from_hms_opt(rng.range(13, 18) as u32, *rng.pick(&[0, 30]), 0);
            (start.map(LocalTime::from), end.map(LocalTime::from))
        } else {
            (None, None)
        }
    }

    fn location(&self, city: &City, mode: AttendanceMode, rng: &mut Rng) -> Option<LocationInput> {
        if mode == AttendanceMode::Online && rng.chance(0.7) {
            return None;
        }
        Some(LocationInput {
            venue: rng.chance(0.7).then(|| {
                let venue = *rng.pick(VENUES);
                if venue.starts_with("Hotel") || venue.contains(',') {
                    format!("{venue} {}", city.name)
                } else {
                    format!("{venue}, {}", city.name)
                }
            }),
            city: Some(city.name.to_owned()),
            country_code: Some(if rng.chance(0.1) {
                city.country.to_ascii_lowercase()
            } else {
                city.country.to_owned()
            }),
            address: rng
                .chance(0.2)
                .then(|| format!("{} {}", rng.pick(STREETS), rng.range(1, 120))),
        })
    }

    fn links(&self, org: &Org, day: NaiveDate, rng: &mut Rng) -> Vec<Link> {
        if !rng.chance(0.3) {
            return Vec::new();
        }
        let mut links = vec![Link {
            title: "Agenda".to_owned(),
            url: format!(
                "https://{}/events/{}/{}",
                org.domain,
                day.year(),
                rng.below(100_000)
            ),
        }];
        if rng.chance(0.3) {
            links.push(Link {
                title: "Report".to_owned(),
                url: format!(
                    "https://{}/reports/{}-{}.pdf",
                    org.domain,
                    day.year(),
                    rng.below(1000)
                ),
            });
        }
        links
    }

    /// One event on `day` in `city`.
    fn event(
        &self,
        day: NaiveDate,
        city: &City,
        kind: Option<EventKind>,
        rng: &mut Rng,
    ) -> Planned {
        use EventKind as K;
        let kind = kind.unwrap_or_else(|| {
            [
                K::Meeting,
                K::CoordinationMeeting,
                K::Conference,
                K::Workshop,
                K::Training,
                K::Forum,
                K::NetworkMeeting,
                K::BoardMeeting,
                K::Other,
            ][rng.weighted(&[20, 12, 12, 18, 12, 5, 8, 3, 10])]
        });
        let network = if matches!(kind, K::NetworkMeeting | K::BoardMeeting) || rng.chance(0.04) {
            Some(&self.graph.networks[rng.below(self.graph.networks.len())])
        } else {
            None
        };
        let length = match kind {
            K::Conference | K::Forum | K::Training => rng.weighted(&[35, 40, 20, 5]),
            _ => rng.weighted(&[75, 20, 5]),
        } as u64;
        let end = day.checked_add_days(Days::new(length)).unwrap_or(day);
        self.planned(kind, day, end, city, network, None, rng)
    }

    #[allow(clippy::too_many_arguments)]
    fn planned(
        &self,
        kind: EventKind,
        day: NaiveDate,
        end: NaiveDate,
        city: &City,
        network: Option<&Net>,
        title: Option<String>,
        rng: &mut Rng,
    ) -> Planned {
        let organisers = self.organisers(rng, network.map(|n| n.coordinator));
        let org = self
            .graph
            .organisations
            .iter()
            .find(|o| o.id == organisers[0].0)
            .unwrap_or(&self.graph.organisations[0]);
        let title = title.unwrap_or_else(|| self.title(kind, city, network, org, rng));
        let participants = self.participants(rng);
        let status = self.status(day, rng);
        let mode = if status == EventStatus::MovedOnline {
            AttendanceMode::Online
        } else if day.year() >= 2020 {
            [
                AttendanceMode::InPerson,
                AttendanceMode::Hybrid,
                AttendanceMode::Online,
            ][rng.weighted(&[70, 20, 10])]
        } else {
            [
                AttendanceMode::InPerson,
                AttendanceMode::Hybrid,
                AttendanceMode::Online,
            ][rng.weighted(&[93, 5, 2])]
        };
        let (start_time, end_time) = self.times(rng);
        let input = EventInput {
            description: self.description(&title, city, &organisers, &participants, rng),
            title,
            slug: None,
            kind,
            status: (status != EventStatus::Scheduled || rng.chance(0.5)).then_some(status),
            start_date: Some(day),
            end_date: (end != day || rng.chance(0.5)).then_some(end),
            start_time,
            end_time,
            timezone: Some(city.zone.to_owned()),
            location: self.location(city, mode, rng),
            attendance_mode: (mode != AttendanceMode::InPerson || rng.chance(0.5)).then_some(mode),
            network_id: network.map(|n| n.slug.clone()),
            series_number: None,
            parent_event_id: None,
            programme_id: None,
            precedes: Vec::new(),
            organisers: Vec::new(),
            participants: Vec::new(),
            topics: self.topics(rng, None),
            links: self.links(org, day, rng),
            visibility: if rng.chance(0.05) {
                Some(Visibility::Internal)
            } else if rng.chance(0.3) {
                Some(Visibility::Public)
            } else {
                None
            },
        };
        let mut planned = Planned {
            id: EventId::generate(),
            input,
            slug: None,
            refs: Resolved {
                precedes: Vec::new(),
                network_id: network.map(|n| n.id),
                parent_event_id: None,
                programme_id: self.programme_on(day),
                organisers,
                participants,
            },
            series: false,
        };
        fill_references(&mut planned);
        planned
    }

    fn series_meeting(&self, n: usize, number: i32, day: NaiveDate, rng: &mut Rng) -> Planned {
        let net = &self.graph.networks[n];
        let city = &CITIES[rng.weighted(&self.city_weights)];
        let kind = if net.board {
            EventKind::BoardMeeting
        } else {
            EventKind::NetworkMeeting
        };
        let title = if net.board {
            format!("{} {} Meeting", ordinal(number), net.acronym)
        } else if rng.chance(0.5) {
            format!("{} Meeting of the {}", ordinal(number), net.acronym)
        } else {
            format!(
                "{} Meeting of the {} ({})",
                ordinal(number),
                net.name,
                net.acronym
            )
        };
        let end = day
            .checked_add_days(Days::new(rng.weighted(&[70, 30]) as u64))
            .unwrap_or(day);
        let mut planned = self.planned(kind, day, end, city, Some(net), Some(title), rng);
        planned.input.series_number = Some(number);
        planned.input.topics.truncate(2);
        planned.slug = Some(format!("{}-{number}", net.slug));
        planned.series = true;
        // Series meetings are the network's record: public and held (postponed at worst).
        planned.input.visibility = None;
        if planned.input.status == Some(EventStatus::Cancelled) {
            planned.input.status = Some(EventStatus::Postponed);
        }
        planned
    }

    /// 2–3 back-to-back events in one city: each starts the day after the previous ends.
    fn chain(&self, day: NaiveDate, city: &City, count: usize, rng: &mut Rng) -> Group {
        let mut events = Vec::new();
        let mut start = day;
        let topic = *rng.pick(TOPICS);
        for _ in 0..count {
            let kind = *rng.pick(&[
                EventKind::NetworkMeeting,
                EventKind::CoordinationMeeting,
                EventKind::Meeting,
                EventKind::Workshop,
                EventKind::Conference,
            ]);
            let mut planned = self.event(start, city, Some(kind), rng);
            // Chain members keep to the chain's city even when online.
            let location = planned.input.location.get_or_insert_with(Default::default);
            location.city = Some(city.name.to_owned());
            location.country_code = Some(city.country.to_owned());
            if !planned.input.topics.iter().any(|t| t == topic) {
                planned.input.topics.insert(0, topic.to_owned());
            }
            let end = planned.input.end_date.unwrap_or(start);
            start = end.checked_add_days(Days::new(1)).unwrap_or(end);
            events.push(planned);
        }
        let title = format!(
            "{}, {} {}: back-to-back meetings on {topic}",
            city.name,
            MONTHS[day.month0() as usize],
            day.year()
        );
        Group {
            events,
            chain: Some(title),
        }
    }

    /// A forum and 2–3 of its sessions (`parent_event_id`).
    fn forum_with_sessions(
        &self,
        day: NaiveDate,
        city: &City,
        sessions: usize,
        rng: &mut Rng,
    ) -> Group {
        let forum = self.event(day, city, Some(EventKind::Forum), rng);
        let forum_end = forum.input.end_date.unwrap_or(day);
        let forum_title = forum.input.title.clone();
        let forum_id = forum.id;
        let mut events = vec![forum];
        for i in 0..sessions {
            let session_day = day
                .checked_add_days(Days::new(
                    i as u64 % ((forum_end - day).num_days() as u64 + 1),
                ))
                .unwrap_or(day);
            let title = format!(
                "{} session on {} — {forum_title}",
                ["Opening", "Ministerial", "Closing", "Expert", "Panel"][i % 5],
                rng.pick(SUBJECTS)
            );
            let mut session = self.planned(
                *rng.pick(&[EventKind::Meeting, EventKind::Workshop, EventKind::Other]),
                session_day,
                session_day,
                city,
                None,
                Some(title.chars().take(300).collect()),
                rng,
            );
            session.input.parent_event_id = Some(forum_id.to_string());
            session.refs.parent_event_id = Some(forum_id);
            events.push(session);
        }
        Group {
            events,
            chain: None,
        }
    }
}

/// Mirrors the resolved references into the input, as a client would send them.
fn fill_references(planned: &mut Planned) {
    planned.input.programme_id = planned.refs.programme_id.map(|p| p.to_string());
    planned.input.organisers = planned
        .refs
        .organisers
        .iter()
        .map(|(id, role)| OrganiserInput {
            organisation_id: id.to_string(),
            role: *role,
        })
        .collect();
    planned.input.participants = planned
        .refs
        .participants
        .iter()
        .map(|(person, organisation, role)| ParticipantInput {
            person_id: person.map(|p| p.to_string()),
            organisation_id: organisation.map(|o| o.to_string()),
            role: *role,
        })
        .collect();
}
