//=============================================================================
//  scorehost: what the MuseScore plugins share
//
//  MuseScore makes one menu entry per .qml file, so each action is its own plugin
//  file (scorehost.qml: Harmonize selection, scorehost_fill.qml: Fill selection,
//  scorehost_theme.qml: Develop theme) and all import this file: settings from
//  scorehost.json, the dialog's fields and status line, reading the score as
//  score-JSON, the HTTP request to `scorehost serve`, and writing the answer back
//  as one undoable edit.
//
//  This file has no .import on purpose: Qt then runs it in the scope of the
//  plugin that imports it, so it sees curScore, Element, newElement,
//  removeElement, writeScore and quit as the plugin does (MuseScore 3.2+ and
//  4.x alike). What differs per plugin is passed in.
//=============================================================================

var wholeTicks = 1920;  // MuseScore's division is 480 per quarter
var actions = ["harmonize", "fill", "develop"];  // per-action sections of scorehost.json

// ---- settings, dialog, messages ---------------------------------------------

function localPath(url) {
    return String(url).replace(/^file:\/\//, "");
}

function newSettings(action, defaults) {
    var settings = {
        action: action,
        server: "http://127.0.0.1:8765",
        token: "",
        model: "",
        options: {},
        constraints: [],
        regions: null,
        variation: 0,
        save_as: "",
        autorun: false
    };
    for (var key in defaults)
        settings[key] = defaults[key];
    return settings;
}

// Top-level keys of scorehost.json apply to every action; a section named after the action
// ("harmonize", "fill", "develop") applies to that one only, so one file beside both plugins serves both.
function loadSettings(settings, sidecar, report) {
    if (!sidecar.exists())
        return;
    var given;
    try {
        given = JSON.parse(sidecar.read());
    } catch (e) {
        report("scorehost.json is not valid JSON: " + e);
        return;
    }
    for (var key in given)
        if (actions.indexOf(key) < 0)
            settings[key] = given[key];
    var own = given[settings.action] || {};
    for (var name in own)
        settings[name] = own[name];
}

// fields: setting name -> the dialog's TextInput for it.
function showFields(settings, fields) {
    for (var key in fields)
        fields[key].text = String(settings[key]);
}

function takeFields(settings, fields) {
    for (var key in fields)
        settings[key] = fields[key].text;
}

function report(statusText, message) {
    console.log("scorehost: " + message);
    statusText.text = message;
}

function leave() {
    if (typeof quit === "function")
        quit();
    else
        Qt.quit();
}

// ---- reading the score ------------------------------------------------------

function fractionTicks(fraction) {
    if (!fraction)
        return 0;
    if (fraction.ticks !== undefined)
        return fraction.ticks;
    return Math.round(wholeTicks * fraction.numerator / fraction.denominator);
}

// The notes of one voice of one staff, tied notes merged.
function readVoice(staff, voice) {
    var cursor = curScore.newCursor();
    cursor.track = staff * 4 + voice;
    cursor.rewind(0);
    var events = [];
    while (cursor.segment) {
        if (cursor.element)  // barEnd: 3.2 has no actualDuration, so a tuplet's last note is cut there
            events.push({ tick: cursor.tick, element: cursor.element, barEnd: cursor.measure ? cursor.measure.lastSegment.tick : Infinity });
        cursor.next();
    }
    var notes = [];
    for (var i = 0; i < events.length; i++) {
        var element = events[i].element;
        if (element.type !== Element.CHORD)
            continue;
        var written = fractionTicks(element.actualDuration || element.duration);
        var length = Math.min(written, events[i].barEnd - events[i].tick);
        if (i + 1 < events.length)
            length = Math.min(length, events[i + 1].tick - events[i].tick);
        for (var n = 0; n < element.notes.length; n++) {
            var note = element.notes[n];
            var tied = note.tieBack !== undefined && note.tieBack !== null;
            var previous = tied ? lastNoteAt(notes, note.pitch, events[i].tick) : null;
            if (previous)
                previous.duration += length;
            else
                notes.push({ start: events[i].tick, duration: length, pitch: note.pitch, velocity: 80 });
        }
    }
    return notes;
}

function lastNoteAt(notes, pitch, tick) {
    for (var i = notes.length - 1; i >= 0; i--)
        if (notes[i].pitch === pitch && notes[i].start + notes[i].duration === tick)
            return notes[i];
    return null;
}

// All four voices of a staff as one track: a model that writes chords and counterpoint sees
// the staff's music as one instrument plays it.
function readStaff(staff) {
    var notes = [];
    for (var voice = 0; voice < 4; voice++)
        notes = notes.concat(readVoice(staff, voice));
    notes.sort(function (a, b) { return a.start - b.start || a.pitch - b.pitch; });
    return notes;
}

// Name, General MIDI program and drum flag of a staff, from its part (a piano's two staves
// are "Piano 1" and "Piano 2").
function staffTrack(staff) {
    var parts = curScore.parts;
    for (var i = 0; i < parts.length; i++) {
        var part = parts[i];
        if (staff * 4 < part.startTrack || staff * 4 >= part.endTrack)
            continue;
        var name = String(part.longName || part.partName || ("Staff " + (staff + 1)));
        var staves = (part.endTrack - part.startTrack) / 4;
        if (staves > 1)
            name += " " + (staff - part.startTrack / 4 + 1);
        var program = part.midiProgram >= 0 && part.midiProgram <= 127 ? part.midiProgram : 0;
        return { name: name.slice(0, 200), program: program, is_drum: part.hasDrumStaff === true };
    }
    return { name: "Staff " + (staff + 1), program: 0, is_drum: false };
}

function readBars() {
    var bars = [];
    for (var m = curScore.firstMeasure; m; m = m.nextMeasure) {
        var start = m.firstSegment.tick;
        var end = m.lastSegment.tick;
        var nominal = m.timesigNominal;
        bars.push([start, end - start, nominal ? nominal.numerator : 4, nominal ? nominal.denominator : 4]);
    }
    return bars;
}

function readKeys() {
    var keys = [];
    var cursor = curScore.newCursor();
    cursor.track = 0;
    cursor.rewind(0);
    for (var m = curScore.firstMeasure; m; m = m.nextMeasure) {
        while (cursor.segment && cursor.tick < m.firstSegment.tick)  // one pass over the score
            cursor.next();
        var sharps = cursor.keySignature;
        if (keys.length === 0 || keys[keys.length - 1].sharps !== sharps)
            keys.push({ tick: keys.length === 0 ? 0 : m.firstSegment.tick, sharps: sharps });
    }
    return keys.length ? keys : [{ tick: 0, sharps: 0 }];
}

// trackOf(staff, voice): the score-JSON track a fermata on that voice belongs to, or -1.
function readFermatas(trackOf) {
    var fermatas = [];
    for (var segment = curScore.firstSegment(); segment; segment = segment.next) {
        var annotations = segment.annotations || [];
        for (var i = 0; i < annotations.length; i++) {
            if (annotations[i].type !== Element.FERMATA)
                continue;
            var track = trackOf(Math.floor(annotations[i].track / 4), annotations[i].track % 4);
            fermatas.push({ tick: segment.tick, track: track >= 0 ? track : null });
        }
    }
    return fermatas;
}

// The score as score-JSON: the server accepts bars instead of time signatures and keys as sharps.
function scoreJson(tracks, trackOf) {
    return {
        title: curScore.title || "",
        length: curScore.lastSegment.tick,
        tracks: tracks,
        bars: readBars(),
        keys: readKeys(),
        fermatas: readFermatas(trackOf)
    };
}

// Every staff as a track, in score order, so a region's track is its staff (Fill, Develop).
function readStaves() {
    var tracks = [];
    for (var staff = 0; staff < curScore.nstaves; staff++) {
        var track = staffTrack(staff);
        track.notes = readStaff(staff);
        tracks.push(track);
    }
    return scoreJson(tracks, function (staff, voice) { return staff; });
}

// The staff a setting names: its index (0 = top) or its name ("Viola", "Piano 2").
function staffNamed(score, name) {
    if (typeof name === "number")
        return name;
    var wanted = String(name).toLowerCase();
    var staff = score.tracks.map(function (t) { return t.name.toLowerCase(); }).indexOf(wanted);
    if (staff < 0)
        throw "no staff is named '" + name + "'";
    return staff;
}

// Regions of scorehost.json ({track: staff index or name, start, end}) as the server takes them.
function namedRegions(regions, score) {
    return regions.map(function (r) { return { track: staffNamed(score, r.track), start: r.start, end: r.end }; });
}

// The selected bars of each selected staff, as regions.
function rangeRegions(range) {
    var regions = [];
    for (var staff = range.firstStaff; staff <= range.lastStaff; staff++)
        regions.push({ track: staff, start: range.start, end: range.end });
    return regions;
}

// Where the notes of every staff go back: all four voices, the others emptied (Fill, Develop).
function staffPlaces(score) {
    return score.tracks.map(function (t, staff) { return { staff: staff, voices: [0, 1, 2, 3], clear: true }; });
}

// The selected range {start, end, firstStaff, lastStaff}, or null when no bars are selected.
// A cursor rewound to the selection works from 3.2 (which has no selection.isRange) to 4.x,
// and stays put unless the selection is a range.
function selection() {
    var cursor = curScore.newCursor();
    cursor.rewind(1);  // Cursor.SELECTION_START
    if (!cursor.segment)
        return null;
    var start = cursor.tick, first = cursor.staffIdx;
    cursor.rewind(2);  // Cursor.SELECTION_END: on the last selected staff; no segment at the score's end
    var end = cursor.segment ? cursor.tick : curScore.lastSegment.tick;
    return end > start ? { start: start, end: end, firstStaff: first, lastStaff: cursor.staffIdx } : null;
}

// ---- talking to the server --------------------------------------------------

function call(settings, method, path, body) {
    var request = new XMLHttpRequest();
    request.open(method, settings.server.replace(/\/+$/, "") + path, false);  // headless MuseScore 3 only completes synchronous requests
    request.setRequestHeader("Content-Type", "application/json");
    if (settings.token)
        request.setRequestHeader("Authorization", "Bearer " + settings.token);
    try {
        request.send(body === undefined ? null : JSON.stringify(body));
    } catch (e) {
        throw "cannot reach the scorehost server at " + settings.server + " (start it with: scorehost serve)";
    }
    if (request.status === 0)
        throw "cannot reach the scorehost server at " + settings.server + " (start it with: scorehost serve)";
    var answer = null;
    try {
        answer = JSON.parse(request.responseText);
    } catch (e) {
        throw "the server answered " + request.status + " with something that is not JSON";
    }
    if (request.status >= 400)
        throw (answer && answer.error) ? answer.error.message : ("the server answered " + request.status);
    return answer;
}

// An edit as a job. MuseScore ends a request after 30 s (status 0, as if no server were
// there), and a harmonization on a CPU can take longer: so the job is created, waited for in
// long polls of 20 s each (progress reported between them), and its result fetched.
function runJob(settings, body, report) {
    var job = call(settings, "POST", "/v1/jobs", body);
    var path = "/v1/jobs/" + encodeURIComponent(job.id);
    var waiting = ["queued", "running"];
    while (waiting.indexOf(job.status) >= 0) {
        job = call(settings, "GET", path + "?wait=20");
        if (waiting.indexOf(job.status) >= 0)
            report(settings.model + " is " + job.status + ": " + Math.round(job.progress * 100) + "% ...");
    }
    if (job.status !== "done")
        throw (job.error && job.error.message) || ("the job ended " + job.status);
    var answer = call(settings, "GET", path + "/result");
    try {
        call(settings, "DELETE", path);  // the server frees the result now, not in an hour
    } catch (e) {
        console.log("scorehost: could not free job " + job.id + ": " + e);
    }
    return answer;
}

// settings.options, plus the dialog's fields (names) that the model's options schema knows.
function modelOptions(settings, names) {
    var info = call(settings, "GET", "/v1/models/" + encodeURIComponent(settings.model));
    var known = (info.options_schema && info.options_schema.properties) || {};
    var options = {};
    for (var key in settings.options)
        options[key] = settings.options[key];
    for (var i = 0; i < names.length; i++) {
        var name = names[i];
        // The dialog's temperature is the model's final sampling temperature, whatever it calls it.
        if (name === "temperature" && !known.temperature && known.temperature_end)
            name = "temperature_end";
        var value = parseFloat(settings[names[i]]);
        if (known[name] && !isNaN(value))
            options[name] = value;
    }
    return options;
}

// ---- writing back -----------------------------------------------------------

// Note values a cursor can write in one go (plain, dotted, double-dotted), longest first.
function pieces(ticks) {
    var values = [1920, 1680, 1440, 960, 840, 720, 480, 420, 360, 240, 210, 180, 120, 90, 60, 30];
    var out = [];
    while (ticks > 0) {
        var value = values.filter(function (v) { return v <= ticks; })[0] || ticks;
        out.push(value);
        ticks -= value;
    }
    return out;
}

function setTicks(cursor, ticks) {
    var denominator = wholeTicks, numerator = ticks;
    for (var d = 2; d <= numerator; d++)
        while (numerator % d === 0 && denominator % d === 0) {
            numerator /= d;
            denominator /= d;
        }
    cursor.setDuration(numerator, denominator);
}

// A cursor on the given voice at tick, found through a track that has a segment there.
function placeCursor(staff, voice, tick) {
    var tracks = [staff * 4 + voice, staff * 4];
    for (var t = 0; t < tracks.length; t++) {
        var cursor = curScore.newCursor();
        cursor.track = tracks[t];
        if (typeof cursor.rewindToTick === "function") {
            cursor.rewindToTick(tick);
        } else {
            cursor.rewind(0);
            while (cursor.segment && cursor.tick < tick)
                cursor.next();
        }
        if (cursor.segment && cursor.tick === tick) {
            cursor.track = staff * 4 + voice;
            return cursor;
        }
    }
    throw "cannot place the cursor at tick " + tick + " on staff " + (staff + 1) + ": start the selection at a note or a bar";
}

// Writes one voice of a staff left to right from tick `at`. MuseScore 3.2 has no addRest and
// ignores addToChord, so there a rest is a note turned into a rest and a chord's other notes are
// added to the chord; either leaves the cursor unusable, so it is placed again before the next.
function voiceWriter(staff, voice, at) {
    var cursor = placeCursor(staff, voice, at), stale = false;
    var modern = typeof cursor.addRest === "function";  // 3.5+ (addToChord works since 3.3.4)

    function ready(ticks) {
        if (stale)
            cursor = placeCursor(staff, voice, at);
        stale = false;
        setTicks(cursor, ticks);
        return cursor;
    }

    return {
        rest: function (ticks) {
            var c = ready(ticks);
            if (modern) {
                c.addRest();
            } else {
                c.addNote(60);
                removeElement(placeCursor(staff, voice, at).element);
                stale = true;
            }
            at += ticks;
        },
        chord: function (ticks, pitches) {
            var c = ready(ticks);
            c.addNote(pitches[0]);
            if (modern) {
                for (var i = 1; i < pitches.length; i++)
                    c.addNote(pitches[i], true);
            } else if (pitches.length > 1) {
                var chord = placeCursor(staff, voice, at).element;
                for (var p = 1; p < pitches.length; p++) {
                    var note = newElement(Element.NOTE);
                    note.pitch = pitches[p];
                    chord.add(note);
                }
                stale = true;
            }
            at += ticks;
        }
    };
}

// ---- spelling (as core/spelling.py spells: a note's own spelling, else its key's) ----------

var NATURAL = [0, 2, 4, 5, 7, 9, 11];  // pitch class of C D E F G A B
var FIFTHS = [0, 2, 4, -1, 1, 3, 5];  // each letter's place on the line of fifths from C
var SCALES = { major: [0, 2, 4, 5, 7, 9, 11], minor: [0, 2, 3, 5, 7, 8, 10], dorian: [0, 2, 3, 5, 7, 9, 10],
    phrygian: [0, 1, 3, 5, 7, 8, 10], lydian: [0, 2, 4, 6, 7, 9, 11], mixolydian: [0, 2, 4, 5, 7, 9, 10],
    aeolian: [0, 2, 3, 5, 7, 8, 10], locrian: [0, 1, 3, 5, 6, 8, 10] };
var MODE_DEGREE = { major: 0, dorian: 1, phrygian: 2, lydian: 3, mixolydian: 4, minor: 5, aeolian: 5, locrian: 6 };
var MODE_OFFSET = { major: 0, dorian: 2, phrygian: 4, lydian: 5, mixolydian: 7, minor: 9, aeolian: 9, locrian: 11 };
var MAJOR_CHROMATIC = { 1: 0, 3: 2, 6: 3, 8: 4, 10: 6 }, MINOR_CHROMATIC = { 1: 1, 4: 2, 6: 3, 9: 5, 11: 6 };

function mod(a, n) {
    return ((a % n) + n) % n;
}

// The key's own letter (0-6 from C) for a pitch: its scale letter, or the usual alteration.
function keyLetter(pitch, key) {
    var scale = SCALES[key.mode] || SCALES.major, offset = mod(pitch - key.tonic, 12);
    var sharps = mod(mod(key.tonic - (MODE_OFFSET[key.mode] || 0), 12) * 7, 12);  // of its signature
    if (sharps > 6)
        sharps -= 12;
    var tonicLetter = mod(mod(sharps * 4, 7) + (MODE_DEGREE[key.mode] || 0), 7);
    var step = scale.indexOf(offset);
    if (step < 0)
        step = (["major", "lydian", "mixolydian"].indexOf(key.mode) >= 0 ? MAJOR_CHROMATIC : MINOR_CHROMATIC)[offset];
    return mod(tonicLetter + step, 7);
}

// MuseScore's tonal pitch class of a result note: E# is 25, F 13 (C is 14, one step a fifth).
function tpcOf(note, keys) {
    var letter, key = keys[0];
    for (var k = 0; k < keys.length; k++)
        if (keys[k].tick <= note.start)
            key = keys[k];
    if (note.spelling)
        letter = "CDEFGAB".indexOf(note.spelling.charAt(0));
    else
        letter = keyLetter(note.pitch, key);
    var alter = mod(note.pitch - NATURAL[letter] + 6, 12) - 6;
    return 14 + FIFTHS[letter] + 7 * alter;
}

// MuseScore spells an added note from the key signature alone (F, not the E sharp that leads
// to F sharp minor): once a voice is written, each of its notes in [start, end), tied parts and
// repeated pieces included, takes the spelling of the result note that sounds there.
function spellVoice(staff, voice, notes, start, end) {
    var cursor = curScore.newCursor();
    cursor.track = staff * 4 + voice;
    cursor.rewind(0);
    while (cursor.segment && cursor.tick < end) {
        var element = cursor.element, tick = cursor.tick;
        if (tick >= start && element && element.type === Element.CHORD)
            for (var i = 0; i < element.notes.length; i++) {
                var note = element.notes[i];
                var source = notes.filter(function (n) { return n.pitch === note.pitch && n.start <= tick && tick < n.start + n.duration; })[0];
                if (source && source.tpc !== undefined) {
                    note.tpc1 = source.tpc;
                    note.tpc2 = source.tpc;
                }
            }
        cursor.next();
    }
}

// Notes grouped into chords (same onset and length) and chords into at most `count` voices of
// chords that do not overlap, as the MusicXML writer does (core/musicxml.py). Past `count`
// voices, the chord that frees a voice first is cut short (counted in `shortened`).
function spreadVoices(notes, count) {
    var byKey = {}, chords = [];
    for (var i = 0; i < notes.length; i++) {
        var key = notes[i].start + ":" + notes[i].duration;
        if (!byKey[key]) {
            byKey[key] = { start: notes[i].start, length: notes[i].duration, pitches: [] };
            chords.push(byKey[key]);
        }
        if (byKey[key].pitches.indexOf(notes[i].pitch) < 0)
            byKey[key].pitches.push(notes[i].pitch);
    }
    chords.sort(function (a, b) { return a.start - b.start || a.length - b.length; });
    var voices = [], ends = [], shortened = 0;
    for (var c = 0; c < chords.length; c++) {
        var chord = chords[c], slot = -1;
        for (var v = 0; v < voices.length && slot < 0; v++)
            if (ends[v] <= chord.start)
                slot = v;
        if (slot < 0 && voices.length < count) {
            voices.push([]);
            slot = voices.length - 1;
        }
        if (slot < 0) {
            slot = ends.indexOf(Math.min.apply(null, ends));
            var last = voices[slot][voices[slot].length - 1];
            shortened += 1;
            if (last.start === chord.start) {  // same onset: one chord, the shorter length
                last.length = Math.min(last.length, chord.length);
                last.pitches = last.pitches.concat(chord.pitches.filter(function (p) { return last.pitches.indexOf(p) < 0; }));
                ends[slot] = last.start + last.length;
                continue;
            }
            last.length = chord.start - last.start;
        }
        voices[slot].push(chord);
        ends[slot] = chord.start + chord.length;
    }
    return { voices: voices, shortened: shortened };
}

// Chords of one voice written over [start, end), rests between them (cut at barlines, so no
// rest runs into the next bar); returns how many notes had to be written as repeated notes (no
// single note value spells them, and MuseScore 3.2 plugins cannot tie). A single note may cross
// a barline (MuseScore ties it there); a chord is cut at barlines, since adding a note to a
// chord reaches only its last tied part.
function writeChords(staff, voice, chords, start, end, barlines) {
    var writer = voiceWriter(staff, voice, start);
    var split = 0, position = start;

    function rest(from, to) {
        var spans = cutAt(barlines, from, to);
        for (var s = 0; s < spans.length; s++) {
            var parts = pieces(spans[s][1] - spans[s][0]);
            for (var p = 0; p < parts.length; p++)
                writer.rest(parts[p]);
        }
    }

    for (var i = 0; i < chords.length; i++) {
        var chord = chords[i];
        if (chord.start > position)
            rest(position, chord.start);
        var stop = Math.min(chord.start + chord.length, end);
        var spans = chord.pitches.length > 1 ? cutAt(barlines, chord.start, stop) : [[chord.start, stop]];
        for (var s = 0; s < spans.length; s++) {
            var parts = pieces(spans[s][1] - spans[s][0]);
            for (var p = 0; p < parts.length; p++)
                writer.chord(parts[p], chord.pitches);
            split += parts.length - 1;
        }
        split += spans.length - 1;
        position = stop;
    }
    if (position < end)
        rest(position, end);
    return split;
}

function cutAt(barlines, start, stop) {
    var spans = [], from = start;
    for (var i = 0; i < barlines.length; i++)
        if (barlines[i] > from && barlines[i] < stop) {
            spans.push([from, barlines[i]]);
            from = barlines[i];
        }
    spans.push([from, stop]);
    return spans;
}

// Empties voice 2, 3 or 4 of a staff over [start, end): removing a chord leaves a rest,
// removing a rest there leaves a gap, hence two passes.
function clearVoice(staff, voice, start, end) {
    for (var pass = 0; pass < 2; pass++) {
        var cursor = curScore.newCursor();
        cursor.track = staff * 4 + voice;
        cursor.rewind(0);
        var doomed = [];
        while (cursor.segment && cursor.tick < end) {
            var element = cursor.element;
            if (cursor.tick >= start && element && !(element.type === Element.REST && element.gap === true))
                doomed.push(element);
            cursor.next();
        }
        for (var i = 0; i < doomed.length; i++)
            removeElement(doomed[i]);
    }
}

// place: {staff, voices: the MuseScore voices (0-3) the track's notes may use, clear: empty
// the staff's other voices 2-4 in the region}. Voice 1 is always written, rests if need be.
function writeRegion(place, notes, start, end, barlines) {
    var spread = spreadVoices(notes, place.voices.length);
    var split = 0;
    for (var v = 0; v < place.voices.length; v++) {
        if (v === 0 || v < spread.voices.length) {
            split += writeChords(place.staff, place.voices[v], spread.voices[v] || [], start, end, barlines);
            spellVoice(place.staff, place.voices[v], notes, start, end);
        } else if (place.clear && place.voices[v] > 0)
            clearVoice(place.staff, place.voices[v], start, end);
    }
    return { split: split, shortened: spread.shortened };
}

// ---- the command ------------------------------------------------------------

// Runs one action: prepare() reads the score and returns {score, regions, places, constraints,
// notes} (places[track] says where a track's notes go, see writeRegion; constraints, optional,
// join the settings' ones; notes, optional, are said to the user after the edit) or throws a
// message for the user; the server
// answers; the regions are written back as one undoable edit; save_as saves the score.
function edit(settings, optionNames, prepare, report) {
    var started = Date.now();
    try {
        var plan = prepare();
        report("asking " + settings.model + " at " + settings.server + " ...");
        var body = { model: settings.model, score: plan.score, regions: plan.regions, options: modelOptions(settings, optionNames) };
        var constraints = (settings.constraints || []).concat(plan.constraints || []);
        if (constraints.length)
            body.constraints = constraints;
        var answer = runJob(settings, body, report);
        var pick = Math.min(parseInt(settings.variation) || 0, answer.variations.length - 1);
        var result = answer.variations[pick].score;
        var barlines = plan.score.bars.map(function (bar) { return bar[0]; });
        var split = 0, shortened = 0;
        curScore.startCmd();
        try {
            for (var r = 0; r < plan.regions.length; r++) {
                var region = plan.regions[r];
                var notes = result.tracks[region.track].notes.filter(function (n) { return n.start >= region.start && n.start < region.end; });
                notes.forEach(function (n) { n.tpc = tpcOf(n, result.keys); });
                var written = writeRegion(plan.places[region.track], notes, region.start, region.end, barlines);
                split += written.split;
                shortened += written.shortened;
            }
        } finally {
            curScore.endCmd();
        }
        var message = "wrote " + plan.regions.length + " region(s) with " + settings.model + " in " + ((Date.now() - started) / 1000).toFixed(1) + " s";
        if (split)
            message += "; " + split + " long note(s) were written as repeated notes";
        if (shortened)
            message += "; " + shortened + " chord(s) were cut short to fit four voices";
        for (var w = 0; w < answer.warnings.length; w++)
            message += "; " + answer.warnings[w];
        for (var k = 0; plan.notes && k < plan.notes.length; k++)  // what the plugin left alone, and why
            message += "; " + plan.notes[k];
        report(message);
        if (settings.save_as) {
            var format = settings.save_as.split(".").pop();
            if (!writeScore(curScore, settings.save_as.replace(/\.[^.\/]+$/, ""), format))
                throw "could not save " + settings.save_as;
            report("saved " + settings.save_as + " after " + ((Date.now() - started) / 1000).toFixed(2) + " s");
        }
    } catch (error) {
        report("error: " + error);
    }
}
