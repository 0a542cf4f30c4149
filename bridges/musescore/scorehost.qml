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
//  (its top-level keys and its "harmonize" section: server, token, model,
//  options, regions, save_as, autorun) so it can run headless:
//  QT_QPA_PLATFORM=offscreen mscore3 -p /abs/path/scorehost.qml score
//
//  What this action shares with the other actions lives in scorehost.js, which
//  must sit beside this file.
//=============================================================================

import QtQuick 2.2
import MuseScore 3.0
import FileIO 3.0
import "scorehost.js" as Scorehost

MuseScore {
    id: plugin
    menuPath: "Plugins.scorehost.Harmonize selection"
    description: "Writes alto, tenor and bass for the selected bars with a scorehost model (needs `scorehost serve`)."
    version: "0.1.0"
    requiresScore: true
    pluginType: "dialog"
    width: 380
    height: 300

    readonly property var voiceNames: ["soprano", "alto", "tenor", "bass"]
    property var settings: Scorehost.newSettings("harmonize", { model: "deepbach", temperature: "", iterations: "", variations: 1 })

    FileIO {
        id: sidecar
        source: Scorehost.localPath(Qt.resolvedUrl("scorehost.json"))
    }

    onRun: {
        Scorehost.loadSettings(settings, sidecar, report);
        Scorehost.showFields(settings, fields());
        if (settings.autorun) {
            harmonize();
            Scorehost.leave();
        }
    }

    function fields() {
        return { server: serverField, model: modelField, temperature: temperatureField, iterations: iterationsField, variations: variationsField };
    }

    function report(message) {
        Scorehost.report(statusText, message);
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

    function readScore(voices) {
        var tracks = [];
        for (var v = 0; v < voices.length; v++) {
            var name = voiceNames[v];
            tracks.push({ name: name.charAt(0).toUpperCase() + name.slice(1), role: name, program: 52, notes: Scorehost.readVoice(voices[v][0], voices[v][1]) });
        }
        return Scorehost.scoreJson(tracks, function (staff, voice) {
            for (var v = 0; v < voices.length; v++)
                if (voices[v][0] === staff && voices[v][1] === voice)
                    return v;
            return -1;
        });
    }

    // ---- what to write ------------------------------------------------------

    // The selected bars of alto, tenor and bass; with no selection, the bars where they are
    // empty, up to the bar where the melody ends: past it there is no melody to harmonize (the
    // model rests with a silent soprano, so those bars came back empty), and the user is told.
    function regionsFor(score, notes) {
        if (settings.regions)
            return settings.regions.map(function (r) {
                return { track: typeof r.track === "number" ? r.track : voiceNames.indexOf(r.track), start: r.start, end: r.end };
            });
        var range = Scorehost.selection();
        var regions = [];
        var bars = score.bars;
        var melodyEnd = score.tracks[0].notes.reduce(function (end, n) { return Math.max(end, n.start + n.duration); }, 0);
        if (!range) {
            if (!melodyEnd)
                throw "Nothing to harmonize: the upper staff has no melody. Write it there, or select bars.";
            var after = bars.filter(function (bar) { return bar[0] >= melodyEnd; }).length;
            var first = bars.length - after + 1;  // numbered as MuseScore shows them, from 1
            if (after)
                notes.push((after > 1 ? "bars " + first + "-" + bars.length : "bar " + first) + " ha" + (after > 1 ? "ve" : "s") + " no melody to harmonize and stay" + (after > 1 ? "" : "s") + " empty");
        }
        for (var v = 1; v < 4; v++) {
            if (range) {
                regions.push({ track: v, start: range.start, end: range.end });
                continue;
            }
            for (var b = 0; b < bars.length && bars[b][0] < melodyEnd; b++) {
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

    // ---- the command --------------------------------------------------------

    function harmonize() {
        Scorehost.edit(settings, ["temperature", "iterations", "variations"], function () {
            var voices = layout();
            if (!voices)
                throw "Harmonizing needs a second staff for tenor and bass: add a bass staff (Instruments), then run again (MuseScore before 3.5 cannot add staves from a plugin).";
            var score = readScore(voices);
            var notes = [];
            var regions = regionsFor(score, notes);
            if (!regions.length)
                throw "Nothing to fill: alto, tenor and bass have notes everywhere. Select the bars to rewrite.";
            var places = voices.map(function (v) { return { staff: v[0], voices: [v[1]], clear: false }; });
            return { score: score, regions: regions, places: places, notes: notes };
        }, report);
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
                    MouseArea { anchors.fill: parent; onClicked: { Scorehost.takeFields(settings, fields()); harmonize(); } }
                }
                Rectangle {
                    width: 80; height: 28; radius: 4; color: "#888"
                    Text { anchors.centerIn: parent; text: "Close"; color: "white" }
                    MouseArea { anchors.fill: parent; onClicked: Scorehost.leave() }
                }
            }
            Text { id: statusText; width: parent.width; wrapMode: Text.Wrap; text: "" }
        }
    }
}
