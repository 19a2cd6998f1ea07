<?php

/*
 * The package's functions (classes load on demand; functions cannot): loaded by Composer
 * ("autoload": {"files"}) and by autoload.php. Declared only once, even when preload.php already
 * declared them at server start and a request loads this file again.
 */

declare(strict_types=1);

namespace VodUpload;

if (!function_exists(__NAMESPACE__ . '\parse_event')) {
    /**
     * Parses an event's JSON: the body of a callback POST, or a stored event (the same as
     * Event::parse()).
     *
     *     $event = VodUpload\parse_event(file_get_contents('php://input'));
     *
     * @throws InvalidInputException the text is not an event (the message says why)
     */
    function parse_event(string $json): Event
    {
        return Event::parse($json);
    }
}
