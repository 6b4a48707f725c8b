// Remote capture phone page: camera preview with an oval guide, ~4 frames per second sent as JPEG
// to POST <this page>/frames, the server's face-pipeline feedback and liveness progress shown live.
// No build step, no dependencies. The page URL's token is the only credential.
(function () {
  'use strict';
  var FPS = 4;
  var MAX_SIDE = 720; // frames are downscaled so the longer side is at most this (~60-120 kB JPEG)
  var $ = function (id) { return document.getElementById(id); };
  var video = $('preview'), canvas = $('grab'), promptEl = $('prompt'), guide = $('guide'), facebox = $('facebox');
  var framesUrl = location.pathname.replace(/\/+$/, '') + '/frames';
  var stream = null, timer = null, busy = false, finished = false;

  function say(text, isError) {
    promptEl.textContent = text;
    document.body.classList.toggle('error', !!isError);
  }

  function stop() {
    finished = true;
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function showDone() {
    stop();
    $('stage').hidden = true;
    $('progress').hidden = true;
    $('start').hidden = true;
    $('done').hidden = false;
    say('Capture received. Thank you!');
    document.body.dataset.state = 'DONE';
  }

  function fail(text) {
    stop();
    $('start').hidden = true;
    say(text, true);
  }

  var initial = document.body.dataset.state;
  if (initial === 'DONE') { showDone(); return; }
  if (initial === 'EXPIRED') { fail('This link has expired. Ask for a new one.'); return; }
  if (initial !== 'CAPTURE') { fail('This link is not valid.'); return; }

  function placeFaceBox(box) {
    if (!box || !video.videoWidth) { facebox.hidden = true; return; }
    var ew = video.clientWidth, eh = video.clientHeight, vw = video.videoWidth, vh = video.videoHeight;
    var s = Math.max(ew / vw, eh / vh), ox = (ew - vw * s) / 2, oy = (eh - vh * s) / 2;
    // The preview is mirrored: flip x.
    var x = ew - (ox + (box[0] + box[2]) * vw * s), y = oy + box[1] * vh * s;
    facebox.style.left = x + 'px'; facebox.style.top = y + 'px';
    facebox.style.width = box[2] * vw * s + 'px'; facebox.style.height = box[3] * vh * s + 'px';
    facebox.hidden = false;
  }

  function show(r) {
    $('quality').max = r.streakNeeded;
    $('quality').value = r.streak;
    $('liveness').max = r.liveness.total;
    $('liveness').value = r.liveness.completed;
    var ul = $('feedback');
    ul.textContent = '';
    r.feedback.forEach(function (f) {
      var li = document.createElement('li');
      li.textContent = f.prompt;
      li.dataset.code = f.code;
      ul.appendChild(li);
    });
    guide.className = r.compliant ? 'ok' : 'bad';
    placeFaceBox(r.faceBox);
    say(r.prompt);
    document.body.dataset.lastState = r.state;
    document.body.dataset.frames = String(r.frame);
  }

  function notifyDone(tguid) {
    if (!tguid) return;
    fetch('/gbs-spid-server/remote-capture/notification', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ guid: tguid })
    }).catch(function () { /* the capture is stored either way */ });
  }

  function errorText(status, body) {
    var code = body && body.errors && body.errors[0] ? body.errors[0].code : '';
    if (status === 404) return 'This link is not valid.';
    if (status === 410) return 'This link has expired. Ask for a new one.';
    if (status === 409) return 'This capture is already done. You can close this page.';
    if (status === 503) return 'The face check is not available on the server right now. Please try again later.';
    return 'Something went wrong (' + (code || status) + '). Please try again.';
  }

  function sendFrame() {
    if (busy || finished || !video.videoWidth) return;
    busy = true;
    var vw = video.videoWidth, vh = video.videoHeight, k = Math.min(1, MAX_SIDE / Math.max(vw, vh));
    canvas.width = Math.round(vw * k); canvas.height = Math.round(vh * k);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob) { busy = false; return; }
      fetch(framesUrl, { method: 'POST', headers: { 'Content-Type': 'image/jpeg' }, body: blob, cache: 'no-store' })
        .then(function (resp) {
          return resp.json().catch(function () { return null; }).then(function (body) {
            if (finished) return;
            if (!resp.ok) {
              if (resp.status === 409) { showDone(); return; }
              fail(errorText(resp.status, body));
              return;
            }
            show(body);
            if (body.state === 'CAPTURED') { notifyDone(body.tguid); showDone(); }
          });
        })
        .catch(function () { say('Connection problem, retrying…', true); })
        .then(function () { busy = false; });
    }, 'image/jpeg', 0.85);
  }

  function start() {
    $('start').hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      fail('This browser cannot open the camera here (the page must be opened over HTTPS).');
      return;
    }
    say('Allow the camera to start…');
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        $('stage').hidden = false;
        $('progress').hidden = false;
        say('Place your face in the oval');
        return video.play();
      })
      .then(function () { timer = setInterval(sendFrame, 1000 / FPS); })
      .catch(function (e) {
        say('Camera not available: ' + (e && e.name ? e.name : e) + '. Tap to try again.', true);
        $('start').hidden = false;
      });
  }

  $('start').addEventListener('click', start);
  start();
})();
