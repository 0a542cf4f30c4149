//=============================================================================
//  scorehost: Harmonize selection
//
//  Writes the alto, tenor and bass of the selected bars (or, with no selection,
//  of the bars where those voices are empty) with a model served by a running
//  `scorehost serve`, as one undoable edit of the open score. Everything else
//  stays as it is.
//
//  One file for MuseScore 3.2+ and 4.x: it reads the score by walking a cursor and
//  writes back with the cursor (MuseScore 4 has no readScore/writeScore), and
//  its dialog uses plain QtQuick items that both versions ship.
//
//  Settings come from the dialog, or from scorehost.json beside this file
//  (server, token, model, options, regions, save_as, autorun) so it can run
//  headless: QT_QPA_PLATFORM=offscreen mscore3 -p /abs/path/scorehost.qml score
//=============================================================================

import QtQuick 2.2
import MuseScore 3.0
import FileIO 3.0

MuseScore {
    id: plugin
    menuPath: "Plugins.scorehost.Harmonize selection"
    description: "Writes alto, tenor and bass for the selected bars with a scorehost model (needs `scorehost serve`)."
    version: "0.1.0"
    requiresScore: true
    pluginType: "dialog"
    width: 380
    height: 300

    readonly property int wholeTicks: 1920  // MuseScore's division is 480 per quarter
    readonly property var voiceNames: ["soprano", "alto", "tenor", "bass"]
    property var settings: ({
        server: "http://127.0.0.1:8765",
        token: "",
        model: "deepbach",
        temperature: "",
        iterations: "",
        variations: 1,
        variation: 0,
        options: {},
        regions: null,
        save_as: "",
        autorun: false
    })

    FileIO {
        id: sidecar
        source: localPath(Qt.resolvedUrl("scorehost.json"))
    }

    onRun: {
        loadSettings();
        if (settings.autorun) {
            harmonize();
            leave();
        }
    }

    // ---- settings -----------------------------------------------------------

    function localPath(url) {
        return String(url).replace(/^file:\/\//, "");
    }

    function loadSettings() {
        if (!sidecar.exists())
            return;
        try {
            var given = JSON.parse(sidecar.read());
            for (var key in given)
                settings[key] = given[key];
        } catch (e) {
            report("scorehost.json is not valid JSON: " + e);
        }
        serverField.text = settings.server;
        modelField.text = settings.model;
        temperatureField.text = String(settings.temperature);
        iterationsField.text = String(settings.iterations);
        variationsField.text = String(settings.variations);
    }

    function leave() {
        if (typeof quit === "function")
            quit();
        else
            Qt.quit();
    }

    function report(message) {
        console.log("scorehost: " + message);
        statusText.text = message;
    }

    // ---- reading the score --------------------------------------------------

    // The four voices as this score writes them: four staves, or two staves of two voices.
    function layout() {
        if (curScore.nstaves < 2 && typeof curScore.appendPart === "function") {
            try {  // MuseScore 3.5+ can add a staff from a plugin: give the melody a bass staff
                curScore.startCmd();
                curScore.appendPart("bass");
                curScore.endCmd();
            } catch (e) {
                console.log("scorehost: could not add a bass staff: " + e);
            }
        }
        var staves = curScore.nstaves;
        if (staves >= 4)
            return [[0, 0], [1, 0], [2, 0], [3, 0]];
        if (staves >= 2)
            return [[0, 0], [0, 1], [1, 0], [1, 1]];
        return null;
    }

    function fractionTicks(fraction) {
        if (!fraction)
            return 0;
        if (fraction.ticks !== undefined)
            return fraction.ticks;
        return Math.round(wholeTicks * fraction.numerator / fraction.denominator);
    }

    function readVoice(staff, voice) {
        var cursor = curScore.newCursor();
        cursor.track = staff * 4 + voice;
        cursor.rewind(0);
        var events = [];
        while (cursor.segment) {
            if (cursor.element)
                events.push({ tick: cursor.tick, element: cursor.element });
            cursor.next();
        }
        var notes = [];
        for (var i = 0; i < events.length; i++) {
            var element = events[i].element;
            if (element.type !== Element.CHORD)
                continue;
            var written = fractionTicks(element.actualDuration || element.duration);
            var length = i + 1 < events.length ? Math.min(events[i + 1].tick - events[i].tick, written) : written;
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
        for (var m = curScore.firstMeasure; m; m = m.nextMeasure) {
            cursor.rewind(0);
            while (cursor.segment && cursor.tick < m.firstSegment.tick)
                cursor.next();
            var sharps = cursor.keySignature;
            if (keys.length === 0 || keys[keys.length - 1].sharps !== sharps)
                keys.push({ tick: keys.length === 0 ? 0 : m.firstSegment.tick, sharps: sharps });
        }
        return keys.length ? keys : [{ tick: 0, sharps: 0 }];
    }

    function readFermatas(voices) {
        var fermatas = [];
        for (var segment = curScore.firstSegment(); segment; segment = segment.next) {
            var annotations = segment.annotations || [];
            for (var i = 0; i < annotations.length; i++) {
                if (annotations[i].type !== Element.FERMATA)
                    continue;
                var track = null;
                for (var v = 0; v < voices.length; v++)
                    if (voices[v][0] * 4 + voices[v][1] === annotations[i].track)
                        track = v;
                fermatas.push({ tick: segment.tick, track: track });
            }
        }
        return fermatas;
    }

    function readScore(voices) {
        var tracks = [];
        for (var v = 0; v < voices.length; v++) {
            var name = voiceNames[v];
            tracks.push({ name: name.charAt(0).toUpperCase() + name.slice(1), role: name, program: 52, notes: readVoice(voices[v][0], voices[v][1]) });
        }
        return {
            title: curScore.title || "",
            length: curScore.lastSegment.tick,
            tracks: tracks,
            bars: readBars(),
            keys: readKeys(),
            fermatas: readFermatas(voices)
        };
    }

    // ---- what to write ------------------------------------------------------

    function selectedRange() {
        var selection = curScore.selection;
        if (selection && selection.isRange && selection.startSegment) {
            var end = selection.endSegment ? selection.endSegment.tick : curScore.lastSegment.tick;
            return [selection.startSegment.tick, end];
        }
        return null;
    }

    // The selected bars of alto, tenor and bass; with no selection, the bars where they are empty.
    function regionsFor(score) {
        if (settings.regions)
            return settings.regions.map(function (r) {
                return { track: typeof r.track === "number" ? r.track : voiceNames.indexOf(r.track), start: r.start, end: r.end };
            });
        var range = selectedRange();
        var regions = [];
        for (var v = 1; v < 4; v++) {
            if (range) {
                regions.push({ track: v, start: range[0], end: range[1] });
                continue;
            }
            var bars = score.bars;
            for (var b = 0; b < bars.length; b++) {
                var start = bars[b][0], end = bars[b][0] + bars[b][1];
                var empty = !score.tracks[v].notes.some(function (n) { return n.start < end && n.start + n.duration > start; });
                var last = regions.length ? regions[regions.length - 1] : null;
                if (!empty)
                    continue;
                if (last && last.track === v && last.end === start)
                    last.end = end;
                else
                    regions.push({ track: v, start: start, end: end });
            }
        }
        return regions;
    }

    // ---- talking to the server ----------------------------------------------

    function call(method, path, body) {
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

    function modelOptions() {
        var info = call("GET", "/v1/models/" + encodeURIComponent(settings.model));
        var known = (info.options_schema && info.options_schema.properties) || {};
        var options = {};
        for (var key in settings.options)
            options[key] = settings.options[key];
        // The dialog's temperature is the model's final sampling temperature, whatever it calls it.
        var temperatureName = known.temperature ? "temperature" : (known.temperature_end ? "temperature_end" : null);
        var fromDialog = { iterations: parseInt(settings.iterations), variations: parseInt(settings.variations) };
        if (temperatureName)
            fromDialog[temperatureName] = parseFloat(settings.temperature);
        for (var name in fromDialog)
            if (known[name] && !isNaN(fromDialog[name]))
                options[name] = fromDialog[name];
        return options;
    }

    // ---- writing back -------------------------------------------------------

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

    function writeRest(cursor, ticks) {
        var parts = pieces(ticks);
        for (var i = 0; i < parts.length; i++) {
            setTicks(cursor, parts[i]);
            if (typeof cursor.addRest === "function") {
                cursor.addRest();
            } else {  // MuseScore 3.2 has no addRest: write a note, then turn it into a rest
                var tick = cursor.tick;
                cursor.addNote(60);
                var placed = placeCursor(Math.floor(cursor.track / 4), cursor.track % 4, tick);
                removeElement(placed.element);
            }
        }
    }

    function writeRegion(cursor, notes, start, end) {
        var split = 0;
        var position = start;
        for (var i = 0; i < notes.length; i++) {
            var note = notes[i];
            if (note.start > position)
                writeRest(cursor, note.start - position);
            var length = Math.min(note.start + note.duration, end) - note.start;
            var parts = pieces(length);
            split += parts.length - 1;
            for (var p = 0; p < parts.length; p++) {
                setTicks(cursor, parts[p]);
                cursor.addNote(note.pitch);
            }
            position = note.start + length;
        }
        if (position < end)
            writeRest(cursor, end - position);
        return split;
    }

    function writeBack(result, regions, voices) {
        var split = 0;
        for (var r = 0; r < regions.length; r++) {
            var region = regions[r];
            var notes = result.tracks[region.track].notes.filter(function (n) { return n.start >= region.start && n.start < region.end; });
            notes.sort(function (a, b) { return a.start - b.start; });
            var place = voices[region.track];
            split += writeRegion(placeCursor(place[0], place[1], region.start), notes, region.start, region.end);
        }
        return split;
    }

    // ---- the command --------------------------------------------------------

    function harmonize() {
        var started = Date.now();
        try {
            var voices = layout();
            if (!voices)
                throw "Harmonizing needs a second staff for tenor and bass: add a bass staff (Instruments), then run again (MuseScore before 3.5 cannot add staves from a plugin).";
            var score = readScore(voices);
            var regions = regionsFor(score);
            if (!regions.length)
                throw "Nothing to fill: alto, tenor and bass have notes everywhere. Select the bars to rewrite.";
            report("asking " + settings.model + " at " + settings.server + " ...");
            var answer = call("POST", "/v1/edit", { model: settings.model, score: score, regions: regions, options: modelOptions() });
            var pick = Math.min(parseInt(settings.variation) || 0, answer.variations.length - 1);
            curScore.startCmd();
            var split;
            try {
                split = writeBack(answer.variations[pick].score, regions, voices);
            } finally {
                curScore.endCmd();
            }
            var message = "wrote " + regions.length + " region(s) with " + settings.model + " in " + ((Date.now() - started) / 1000).toFixed(1) + " s";
            if (split)
                message += "; " + split + " long note(s) were written as repeated notes";
            for (var w = 0; w < answer.warnings.length; w++)
                message += "; " + answer.warnings[w];
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

    // ---- the dialog (plain QtQuick, so MuseScore 3 and 4 both draw it) -----

    Rectangle {
        anchors.fill: parent
        color: "#f4f4f4"

        Column {
            anchors.fill: parent
            anchors.margins: 12
            spacing: 8

            Text { text: "Harmonize the selection (alto, tenor, bass)"; font.bold: true }
            Row { spacing: 8; Text { width: 90; text: "Server" } Rectangle { width: 250; height: 22; border.color: "#999"; TextInput { id: serverField; anchors.fill: parent; anchors.margins: 3; text: settings.server; onEditingFinished: settings.server = text } } }
            Row { spacing: 8; Text { width: 90; text: "Model" } Rectangle { width: 250; height: 22; border.color: "#999"; TextInput { id: modelField; anchors.fill: parent; anchors.margins: 3; text: settings.model; onEditingFinished: settings.model = text } } }
            Row { spacing: 8; Text { width: 90; text: "Temperature" } Rectangle { width: 80; height: 22; border.color: "#999"; TextInput { id: temperatureField; anchors.fill: parent; anchors.margins: 3; text: settings.temperature; onEditingFinished: settings.temperature = text } } }
            Row { spacing: 8; Text { width: 90; text: "Iterations" } Rectangle { width: 80; height: 22; border.color: "#999"; TextInput { id: iterationsField; anchors.fill: parent; anchors.margins: 3; text: settings.iterations; onEditingFinished: settings.iterations = text } } }
            Row { spacing: 8; Text { width: 90; text: "Variations" } Rectangle { width: 80; height: 22; border.color: "#999"; TextInput { id: variationsField; anchors.fill: parent; anchors.margins: 3; text: settings.variations; onEditingFinished: settings.variations = text } } }
            Row {
                spacing: 8
                Rectangle {
                    width: 110; height: 28; radius: 4; color: "#2d6cdf"
                    Text { anchors.centerIn: parent; text: "Harmonize"; color: "white" }
                    MouseArea { anchors.fill: parent; onClicked: { settings.server = serverField.text; settings.model = modelField.text; settings.temperature = temperatureField.text; settings.iterations = iterationsField.text; settings.variations = variationsField.text; harmonize(); } }
                }
                Rectangle {
                    width: 80; height: 28; radius: 4; color: "#888"
                    Text { anchors.centerIn: parent; text: "Close"; color: "white" }
                    MouseArea { anchors.fill: parent; onClicked: leave() }
                }
            }
            Text { id: statusText; width: parent.width; wrapMode: Text.Wrap; text: "" }
        }
    }
}
