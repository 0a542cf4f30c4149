//=============================================================================
//  scorehost: Fill selection
//
//  Rewrites the selected bars of the selected staves (one or several, of any
//  score) with new notes from a model served by a running `scorehost serve`
//  (mmm by default), as one undoable edit: empty bars are filled, notes there
//  are replaced, everything else stays as it is. With no selection it does
//  nothing and asks for one.
//
//  Each staff goes to the server as one track (all its voices, named and
//  voiced after its part); the notes that come back are spread over the
//  staff's four voices where they overlap.
//
//  Settings come from the dialog, or from scorehost.json beside this file
//  (its top-level keys and its "fill" section: server, token, model, options,
//  constraints, regions, variation, save_as, autorun). Regions there name a
//  staff by index (0 = top) or by name ("Viola", "Piano 2") with start and end
//  ticks, so it can run headless:
//  QT_QPA_PLATFORM=offscreen mscore3 -p /abs/path/scorehost_fill.qml score
//
//  What this action shares with the other actions lives in scorehost.js,
//  which must sit beside this file.
//=============================================================================

import QtQuick 2.2
import MuseScore 3.0
import FileIO 3.0
import "scorehost.js" as Scorehost

MuseScore {
    id: plugin
    menuPath: "Plugins.scorehost.Fill selection"
    description: "Fills the selected bars of the selected staves with new notes from a scorehost model (needs `scorehost serve`)."
    version: "0.1.0"
    requiresScore: true
    pluginType: "dialog"
    width: 380
    height: 210

    readonly property string selectFirst: "Select the bars to fill first (on one staff or several), then run Fill selection."
    property var settings: Scorehost.newSettings("fill", { model: "mmm", temperature: "" })

    FileIO {
        id: sidecar
        source: Scorehost.localPath(Qt.resolvedUrl("scorehost.json"))
    }

    onRun: {
        Scorehost.loadSettings(settings, sidecar, report);
        Scorehost.showFields(settings, fields());
        if (settings.autorun) {
            fill();
            Scorehost.leave();
        } else if (!settings.regions && !Scorehost.selection()) {
            report(selectFirst);
        }
    }

    function fields() {
        return { server: serverField, model: modelField, temperature: temperatureField };
    }

    function report(message) {
        Scorehost.report(statusText, message);
    }

    // The settings' regions, else the selected bars of each selected staff; null: nothing selected.
    function regionsFor(score) {
        if (settings.regions)
            return Scorehost.namedRegions(settings.regions, score);
        var range = Scorehost.selection();
        return range ? Scorehost.rangeRegions(range) : null;
    }

    function fill() {
        if (!settings.regions && !Scorehost.selection()) {
            report(selectFirst);
            return;
        }
        Scorehost.edit(settings, ["temperature"], function () {
            var score = Scorehost.readStaves();
            return { score: score, regions: regionsFor(score), places: Scorehost.staffPlaces(score) };
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

            Text { text: "Fill the selected bars with new notes"; font.bold: true }
            Row { spacing: 8; Text { width: 90; text: "Server" } Rectangle { width: 250; height: 22; border.color: "#999"; TextInput { id: serverField; anchors.fill: parent; anchors.margins: 3; text: settings.server; onEditingFinished: settings.server = text } } }
            Row { spacing: 8; Text { width: 90; text: "Model" } Rectangle { width: 250; height: 22; border.color: "#999"; TextInput { id: modelField; anchors.fill: parent; anchors.margins: 3; text: settings.model; onEditingFinished: settings.model = text } } }
            Row { spacing: 8; Text { width: 90; text: "Temperature" } Rectangle { width: 80; height: 22; border.color: "#999"; TextInput { id: temperatureField; anchors.fill: parent; anchors.margins: 3; text: settings.temperature; onEditingFinished: settings.temperature = text } } }
            Row {
                spacing: 8
                Rectangle {
                    width: 110; height: 28; radius: 4; color: "#2d6cdf"
                    Text { anchors.centerIn: parent; text: "Fill"; color: "white" }
                    MouseArea { anchors.fill: parent; onClicked: { Scorehost.takeFields(settings, fields()); fill(); } }
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
